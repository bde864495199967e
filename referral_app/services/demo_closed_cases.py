"""The demo's ended referrals (see services.demo_stories for the notation):
closed with each kind of outcome, declined with a reason, and withdrawn."""

from __future__ import annotations

from referral_app.models import ConsentStatus as C
from referral_app.models import LawfulBasis as B
from referral_app.models import NoteKind as K
from referral_app.models import Outcome
from referral_app.models import RiskFactor as F
from referral_app.services.demo_stories import (
    CHARITY,
    COUNCIL,
    HIGH,
    LOW,
    MEDIUM,
    YJS,
    Story,
    accept,
    assign,
    close,
    decline,
    note,
    read,
    share,
    submit,
    withdraw,
)

# fmt: off
CLOSED = [
    Story("nia", "sam", YJS, "70d 10:00",
        "Nia has been going missing overnight and was found in a Basildon flat with cannabis "
        "and adults not known to the family.",
        MEDIUM, (F.MISSING_EPISODES, F.SUBSTANCE_MISUSE), C.OBTAINED_FROM_PARENT,
        B.PUBLIC_TASK, steps=(
        submit("70d 10:30"),
        accept("69d 09:00", "priya"),
        assign("69d 09:10", "priya", "tom"),
        note("65d 14:00", "tom", K.HOME_VISIT, "First visit; Nia agreed to a 12-week plan.",
            shared=True),
        note("50d 10:00", "tom", K.INTERVENTION, "Substance misuse session with the nurse."),
        note("30d 11:00", "tom", K.MULTI_AGENCY_MEETING,
            "Review: no missing episodes for five weeks; back in full-time school.",
            shared=True),
        close("10d 15:00", "tom", Outcome.ENGAGED_AND_COMPLETED,
            "Nia completed the 12-week programme, is back in full-time education and has had "
            "no further missing episodes. Closed with her agreement."),
        read("9d 08:30", "sam"))),
    Story("harvey", "sam", YJS, "50d 11:00",
        "Harvey was stopped in a car with older males and a large amount of cash in Maldon.",
        MEDIUM, (F.CRIMINAL_EXPLOITATION,), C.OBTAINED_FROM_PARENT, B.PUBLIC_TASK, steps=(
        submit("50d 11:10"),
        accept("49d 10:00", "priya"),
        assign("49d 10:05", "priya", "tom"),
        note("47d 16:00", "tom", K.HOME_VISIT, "Harvey and his father were polite but "
            "unconvinced that he needs help."),
        note("40d 15:00", "tom", K.CONTACT, "Father phoned to say Harvey will not take part.",
            shared=True),
        close("35d 12:00", "tom", Outcome.DECLINED_SUPPORT,
            "Harvey and his father declined support after two visits. They know how to come "
            "back to us; school and police told."),
        read("34d 09:00", "sam"))),
    Story("isla", "sam", YJS, "60d 13:00",
        "Isla was found drunk in Saffron Walden at 2am with two older boys from out of town.",
        LOW, (F.SUBSTANCE_MISUSE, F.MISSING_EPISODES), C.OBTAINED_FROM_PARENT, B.PUBLIC_TASK,
        steps=(
        submit("60d 13:10"),
        accept("58d 10:00", "priya"),
        assign("58d 10:05", "priya", "tom"),
        note("55d 11:00", "tom", K.CONTACT, "Two calls and a letter; no reply."),
        note("50d 17:00", "tom", K.HOME_VISIT, "Unannounced visit; no one at home."),
        close("40d 17:00", "priya", Outcome.NOT_ENGAGED,
            "Five attempts over four weeks, two of them visits, without engagement. School "
            "asked to re-refer if concerns rise."))),
    Story("deshawn", "lewis", YJS, "25d 15:00",
        "Deshawn was seen handing cash to an older male outside Loughton station.",
        MEDIUM, (F.CRIMINAL_EXPLOITATION,), C.OBTAINED_FROM_PARENT, B.PUBLIC_TASK, steps=(
        submit("25d 15:05"),
        accept("24d 09:00", "priya"),
        assign("24d 09:05", "priya", "tom"),
        note("22d 14:00", "tom", K.HOME_VISIT,
            "The cash was Deshawn's pay from a weekend job, confirmed with the employer.",
            shared=True),
        close("18d 11:00", "tom", Outcome.NO_FURTHER_ACTION,
            "No sign of exploitation: the money was his wages, confirmed with his employer. "
            "No further action."),
        read("17d 08:00", "lewis"))),
    Story("poppy", "sam", YJS, "40d 19:30",
        "Poppy (12) disclosed that adults who visit her home give her vapes and ask her to "
        "take bags to the park.",
        HIGH, (F.CRIMINAL_EXPLOITATION, F.DOMESTIC_ABUSE), C.OBTAINED_FROM_CHILD,
        B.VITAL_INTERESTS, steps=(
        submit("40d 19:45"),
        accept("39d 08:30", "priya"),
        assign("39d 08:35", "priya", "tom"),
        note("38d 13:00", "tom", K.HOME_VISIT, "Visit with a social worker; adults present "
            "left when we arrived."),
        note("34d 10:00", "tom", K.MULTI_AGENCY_MEETING,
            "Strategy discussion: children's social care to lead a child and family "
            "assessment.", shared=True),
        share("33d 12:00", "priya", COUNCIL,
            "Child and family assessment by children's social care, agreed at the strategy "
            "discussion", 180, B.LEGAL_OBLIGATION),
        close("32d 16:00", "tom", Outcome.ESCALATED_TO_CHILDRENS_SOCIAL_CARE,
            "Escalated to children's social care, who lead from now on. YJS support ended."))),
    Story("kieran", "sam", YJS, "45d 10:00",
        "Kieran has been self-harming and was found with a knife in Harwich town centre.",
        MEDIUM, (F.WEAPON_CARRYING, F.MENTAL_HEALTH), C.OBTAINED_FROM_PARENT, B.PUBLIC_TASK,
        steps=(
        submit("45d 10:10"),
        accept("44d 11:00", "priya"),
        assign("44d 11:05", "priya", "tom"),
        note("40d 15:00", "tom", K.INTERVENTION, "Weapons session; Kieran spoke about his low "
            "mood."),
        close("30d 14:00", "tom", Outcome.TRANSFERRED,
            "Transferred to the child and adolescent mental health service as lead agency, "
            "with Kieran's agreement."))),
    Story("sofia", "sam", YJS, "35d 09:00",
        "Sofia was seen carrying parcels for an older cousin between Epping and London.",
        LOW, (F.COUNTY_LINES,), C.OBTAINED_FROM_PARENT, B.PUBLIC_TASK, steps=(
        submit("35d 09:15"),
        accept("34d 10:00", "priya"),
        assign("34d 10:05", "priya", "tom"),
        note("30d 11:00", "tom", K.CONTACT, "Mother says the family is moving to Norfolk."),
        close("20d 10:00", "tom", Outcome.MOVED_OUT_OF_AREA,
            "Sofia and her mother moved to Norfolk. Norfolk YJS have a summary, with the "
            "family's consent."))),
    Story("imani", "sam", CHARITY, "48d 10:00",
        "Imani is being pressured to hold drugs for her older sister's partner. Mentoring "
        "requested.",
        LOW, (F.CRIMINAL_EXPLOITATION,), C.OBTAINED_FROM_CHILD, B.CONSENT, steps=(
        submit("48d 10:15"),
        accept("46d 09:00", "grace"),
        assign("46d 09:10", "grace", "grace"),
        note("40d 16:00", "grace", K.INTERVENTION, "Weekly mentoring started.", shared=True),
        close("20d 15:00", "grace", Outcome.ENGAGED_AND_COMPLETED,
            "Imani finished eight mentoring sessions and joined a youth club."),
        read("19d 10:00", "sam"))),
]

DECLINED_AND_WITHDRAWN = [
    Story("alfie", "sam", YJS, "22d 10:00",
        "Alfie is being bullied online and has threatened to bring a knife to school.",
        LOW, (F.ONLINE_HARM,), C.OBTAINED_FROM_PARENT, B.PUBLIC_TASK, steps=(
        submit("22d 10:05"),
        decline("20d 15:00", "priya",
            "Below the threshold for YJS prevention: no sign of exploitation or offending. "
            "Please ask the school's pastoral team and Essex Early Help."))),
    Story("evie", "priya", CHARITY, "16d 10:00",
        "Evie is on the edge of a group that steals to order in Witham; mentoring requested.",
        LOW, (F.PEER_VIOLENCE,), C.OBTAINED_FROM_PARENT, B.CONSENT, steps=(
        submit("16d 10:10"),
        decline("14d 12:00", "grace",
            "No mentor free in Witham for three months. Please re-refer then, or ask Essex "
            "Youth Service, who can start sooner."))),
    Story("ellie", "sam", YJS, "8d 12:00",
        "Ellie was found with older males in a car in Halstead after midnight.",
        MEDIUM, (F.SEXUAL_EXPLOITATION,), C.OBTAINED_FROM_PARENT, B.PUBLIC_TASK, steps=(
        submit("8d 12:10"),
        withdraw("7d 09:00",
            "Ellie has moved to her father's in Norfolk; concerns passed to Norfolk "
            "Constabulary."))),
    Story("tyrese", "sam", YJS, "15d 16:00",
        "Tyrese was stopped in Chelmsford with a balaclava and gloves.", MEDIUM,
        steps=(withdraw("15d 16:20", "Started in error: the stop was of another young person."),)),
]
# fmt: on

STORIES = CLOSED + DECLINED_AND_WITHDRAWN
