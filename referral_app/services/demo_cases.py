"""The demo's open referrals (see services.demo_stories for the notation):
drafts, referrals awaiting triage (some overdue) at each receiving agency,
cases being worked with notes of every kind and shares (one revoked), a
reopened case, and children referred again by a second agency. The ended
ones are in services.demo_closed_cases."""

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
    POLICE,
    YJS,
    Story,
    accept,
    assign,
    close,
    note,
    read,
    reopen,
    revoke,
    share,
    submit,
)

# fmt: off
# Drafts: two of Sam's and one of Tom's not finished.
DRAFTS = [
    Story("kai", "sam", YJS, "3h",
        "Kai was found by officers at 01:30 in a stairwell in Chelmsford with £340 in cash and "
        "two phones. He would not say where he had been. His mother says he has been going "
        "missing overnight about once a week for two months.",
        MEDIUM, (F.CRIMINAL_EXPLOITATION, F.MISSING_EPISODES), C.OBTAINED_FROM_PARENT,
        B.PUBLIC_TASK),
    Story("amara", "sam", YJS, "1d 16:00",
        "Amara's school reports she is being collected by older males in cars. Still waiting "
        "to speak to her mother before finishing this referral.",
        factors=(F.SEXUAL_EXPLOITATION, F.CRIMINAL_EXPLOITATION)),
    Story("tyler", "sam", CHARITY, "4d 15:20",
        "Tyler (13) was seen passing packages at Colchester bus station. Mentoring referral: "
        "consent not yet discussed with the family.", LOW),
    Story("mia", "lewis", YJS, "2d 09:40",
        "Mia was stopped with a knife outside a Brentwood takeaway; she said she carries it "
        "for protection after being threatened online. No previous police contact.",
        MEDIUM, (F.WEAPON_CARRYING, F.ONLINE_HARM), C.OBTAINED_FROM_CHILD, B.PUBLIC_TASK),
    Story("freya", "grace", YJS, "2h",
        "Freya's mother asked us for help: Freya comes home with clothes and cash she cannot "
        "explain, and was seen at a Chelmsford address known for dealing. Mentoring alone "
        "will not be enough.",
        MEDIUM, (F.CRIMINAL_EXPLOITATION, F.MISSING_EPISODES), C.OBTAINED_FROM_PARENT,
        B.PUBLIC_TASK),
    Story("nia", "tom", CHARITY, "1d 11:00",
        "Nia would like a mentor now our work with her has ended. Still to ask her mother "
        "for consent."),
    Story("isla", "priya", COUNCIL, "6d 15:00",
        "Isla's school says her attendance has fallen to 40% and she has been drinking. "
        "Considering a referral for a child in need assessment.",
        LOW, (F.SUBSTANCE_MISUSE, F.SCHOOL_EXCLUSION), C.OBTAINED_FROM_PARENT, B.PUBLIC_TASK),
]

AWAITING_TRIAGE = [
    Story("leah", "sam", YJS, "4h",
        "Leah was reported missing for 36 hours and found in a flat in Harlow with two adult "
        "men known for supplying drugs. She has a new phone and will not say who gave it.",
        HIGH, (F.CRIMINAL_EXPLOITATION, F.MISSING_EPISODES, F.SUBSTANCE_MISUSE),
        C.OBTAINED_FROM_PARENT, B.PUBLIC_TASK, steps=(submit("3h"),)),
    Story("jayden", "sam", YJS, "2d 15:50",
        "Jayden was arrested in Southend in possession of 20 wraps of crack cocaine, 40 miles "
        "from home, and released under investigation. Signs of county lines: a debt he says "
        "he owes, a burner phone, missing from school for three weeks.",
        HIGH, (F.COUNTY_LINES, F.CRIMINAL_EXPLOITATION, F.SCHOOL_EXCLUSION), C.NOT_SOUGHT,
        B.VITAL_INTERESTS,
        "Not sought: Jayden was in custody and at immediate risk; his mother was told of the "
        "referral the same evening.",
        steps=(submit("2d 16:10"),)),
    Story("ruby", "sam", YJS, "5d 11:00",
        "Ruby was assaulted by a group of older girls, filmed and posted online. She has since "
        "been seen with the same group and was stopped carrying a lock knife.",
        MEDIUM, (F.PEER_VIOLENCE, F.ONLINE_HARM, F.WEAPON_CARRYING), C.OBTAINED_FROM_CHILD,
        B.PUBLIC_TASK, steps=(submit("5d 11:30"),)),
    Story("mason", "lewis", YJS, "1d 15:30",
        "Mason (12) was found at Braintree station late at night with an older boy who is "
        "known to police for running a drug line. Mason's father is asking for help.",
        MEDIUM, (F.CRIMINAL_EXPLOITATION, F.GANG_ASSOCIATION), C.OBTAINED_FROM_PARENT,
        B.PUBLIC_TASK, steps=(submit("1d 15:45"),)),
    Story("zara", "sam", YJS, "3d 09:50",
        "Zara shoplifted with a group of older teenagers in Witham; she said she was told to. "
        "First police contact. Domestic abuse at home is known to children's services.",
        LOW, (F.PEER_VIOLENCE, F.DOMESTIC_ABUSE), C.OBTAINED_FROM_PARENT, B.PUBLIC_TASK,
        steps=(submit("3d 10:05"),)),
    Story("oliver", "sam", YJS, "9d 14:00",
        "Oliver has been excluded from school for dealing cannabis on site. He says he is "
        "paid by someone he will not name. Low level so far; prevention work requested.",
        LOW, (F.SUBSTANCE_MISUSE, F.SCHOOL_EXCLUSION), C.REFUSED, B.PUBLIC_TASK,
        "Oliver refused consent; his mother agreed. Referred as the risk is rising.",
        steps=(submit("9d 14:20"),)),
    Story("connor", "sam", CHARITY, "5d 08:40",
        "Connor was cautioned for criminal damage with an older group in Clacton. Mentoring "
        "and positive activities requested before this escalates.",
        MEDIUM, (F.GANG_ASSOCIATION, F.PEER_VIOLENCE), C.OBTAINED_FROM_PARENT, B.CONSENT,
        steps=(submit("5d 09:00"),)),
    Story("layla", "sam", CHARITY, "6h",
        "Layla disclosed that an adult she met online has been sending her money and asking to "
        "meet. The account is under investigation; she needs support now.",
        HIGH, (F.ONLINE_HARM, F.SEXUAL_EXPLOITATION), C.OBTAINED_FROM_PARENT, B.PUBLIC_TASK,
        steps=(submit("5h"),)),
    Story("ryan", "sam", COUNCIL, "1d 12:30",
        "Ryan (11) has been left alone for days at a time; neighbours say older boys use the "
        "flat. Referred to children's services for a welfare assessment.",
        MEDIUM, (F.CRIMINAL_EXPLOITATION,), C.NOT_SOUGHT, B.LEGAL_OBLIGATION,
        "Not sought: a welfare concern about the parent's care; consent would put Ryan at risk.",
        steps=(submit("1d 13:00"),)),
    Story("maya", "sam", YJS, "4d 10:00",
        "Maya has been missing three times in a month and returns with gifts she cannot "
        "explain. Accepted by the YJS; waiting for a caseworker.",
        MEDIUM, (F.MISSING_EPISODES, F.CRIMINAL_EXPLOITATION), C.OBTAINED_FROM_PARENT,
        B.PUBLIC_TASK, steps=(submit("4d 10:15"), accept("2d 10:30", "priya"))),
]

IN_PROGRESS = [
    Story("ethan", "sam", YJS, "30d 10:15",
        "Ethan was found in a Southend flat used for dealing, 40 miles from home, after being "
        "missing for three days. He has new clothes and two phones his mother cannot account "
        "for, and says he owes money.",
        HIGH, (F.COUNTY_LINES, F.MISSING_EPISODES, F.CRIMINAL_EXPLOITATION),
        C.OBTAINED_FROM_PARENT, B.PUBLIC_TASK, steps=(
        submit("30d 10:40"),
        accept("29d 09:20", "priya"),
        assign("29d 09:25", "priya", "tom"),
        note("28d 14:00", "tom", K.CONTACT,
            "Phoned Ethan's mother to introduce the service and book a first visit. She is "
            "worried about the phones and about him being out until 3am."),
        note("26d 16:30", "tom", K.HOME_VISIT,
            "First home visit with Ethan and his mother. Ethan was guarded but agreed to meet "
            "weekly. Safety plan: phones handed in at 10pm; any missing episode reported to "
            "police at once.", shared=True),
        note("22d 10:00", "tom", K.MULTI_AGENCY_MEETING,
            "Multi-agency meeting (YJS, Essex Police, school, children's services). Agreed: "
            "police to disrupt the Southend address; school to put Ethan on a reduced "
            "timetable; YJS to ask Safer Futures for a mentor.", shared=True),
        share("21d 11:15", "priya", CHARITY,
            "Mentoring through Safer Futures' exit programme, as agreed at the multi-agency "
            "meeting", 90),
        note("20d 13:00", "sam", K.CONTACT,
            "Ethan was stopped with two older males at Chelmsford station. No offence; "
            "intelligence submitted.", shared=True),
        note("14d 15:00", "tom", K.INTERVENTION,
            "Session 3 of the county lines programme. Ethan talked for the first time about "
            "the debt he was told he owed."),
        note("7d 11:00", "tom", K.CONTACT,
            "Ethan went to his first mentoring session with Safer Futures and wants to carry "
            "on.", shared=True),
        note("2d 17:20", "tom", K.MEETING,
            "Supervision with Priya: risk stays high until the debt is dealt with. Next review "
            "in two weeks."))),
    Story("chloe", "sam", YJS, "21d 13:30",
        "Chloe has been seen carrying a bag between two addresses in Harlow for an older "
        "boyfriend, and was stopped with £600 in cash.",
        MEDIUM, (F.CRIMINAL_EXPLOITATION, F.SEXUAL_EXPLOITATION), C.OBTAINED_FROM_CHILD,
        B.PUBLIC_TASK, steps=(
        submit("21d 13:45"),
        accept("20d 10:00", "priya"),
        assign("20d 10:10", "priya", "tom"),
        note("19d 15:00", "tom", K.CONTACT, "Spoke to Chloe by phone; first visit booked."),
        note("15d 16:00", "tom", K.HOME_VISIT,
            "Home visit. Chloe says the boyfriend is 19 and 'looks after her'. Healthy "
            "relationships work started; mother supportive."),
        note("8d 11:00", "tom", K.INTERVENTION,
            "Second healthy relationships session. Chloe agreed to a referral to Safer "
            "Futures' girls' group.", shared=True))),
    Story("reece", "lewis", YJS, "14d 08:45",
        "Reece was stabbed in the leg in Wickford in what police believe was a dispute over a "
        "drug line. He will not give a statement and is at risk of retaliation.",
        HIGH, (F.PEER_VIOLENCE, F.GANG_ASSOCIATION, F.WEAPON_CARRYING),
        C.OBTAINED_FROM_PARENT, B.VITAL_INTERESTS, steps=(
        submit("14d 09:00"),
        accept("13d 09:30", "priya"),
        assign("13d 09:32", "priya", "priya"),
        note("12d 15:00", "priya", K.CONTACT,
            "Met Reece on the ward with his mother. He is frightened and wants to move away."),
        note("9d 10:00", "priya", K.HOME_VISIT,
            "Home visit. Safety plan agreed with police; Reece to start boxing with Safer "
            "Futures.", shared=True),
        note("3d 14:00", "priya", K.INTERVENTION,
            "Consequences of carrying a weapon: Reece engaged well, first time he has talked "
            "about the attack."))),
    Story("aisha", "sam", YJS, "9d 14:00",
        "Aisha has been missing from school and seen at a Colchester address linked to "
        "drug supply. Her older brother is in custody for supplying.",
        MEDIUM, (F.CRIMINAL_EXPLOITATION, F.SCHOOL_EXCLUSION), C.OBTAINED_FROM_PARENT,
        B.PUBLIC_TASK, steps=(
        submit("9d 14:10"),
        accept("8d 09:45", "priya"),
        assign("8d 09:50", "priya", "tom"),
        note("6d 11:00", "tom", K.CONTACT,
            "Phoned Aisha's mother; Aisha agreed to meet at school next week.", shared=True),
        share("5d 15:30", "lewis", CHARITY,
            "Support from Safer Futures' girls' group while the YJS works with Aisha", 60),
        note("2d 10:30", "tom", K.INTERVENTION,
            "First session at school. Aisha is back in most lessons.", shared=True))),
    Story("callum", "sam", YJS, "12d 10:00",
        "Callum was caught with a group spraying graffiti tags linked to a local gang in "
        "Rayleigh. Low risk; family keen for early help.",
        LOW, (F.GANG_ASSOCIATION,), C.OBTAINED_FROM_PARENT, B.PUBLIC_TASK, steps=(
        submit("12d 10:20"),
        accept("10d 14:00", "priya"),
        assign("10d 14:05", "priya", "tom"),
        note("10d 16:00", "tom", K.CONTACT, "Phoned Callum's father; visit booked."),
        share("9d 12:00", "priya", CHARITY, "Football mentoring with Safer Futures", 30),
        revoke("3d 09:00", "priya", CHARITY),
        note("3d 09:10", "tom", K.NOTE,
            "Callum did not want the football place; share with Safer Futures revoked."))),
    Story("jasmine", "sam", YJS, "40d 09:00",
        "Jasmine has been reported missing four times in six weeks, twice found in Southend "
        "with older males.",
        MEDIUM, (F.MISSING_EPISODES, F.SEXUAL_EXPLOITATION), C.OBTAINED_FROM_PARENT,
        B.PUBLIC_TASK, steps=(
        submit("40d 09:20"),
        accept("38d 11:00", "priya"),
        assign("38d 11:05", "priya", "tom"),
        note("35d 15:00", "tom", K.CONTACT, "No answer on three calls; letter sent."),
        note("28d 10:00", "tom", K.HOME_VISIT,
            "Unannounced visit: Jasmine not at home; mother says she is staying with friends.",
            shared=True),
        close("12d 16:00", "tom", Outcome.NOT_ENGAGED,
            "No engagement after six attempts over four weeks. Closed; police and school know "
            "how to re-refer."),
        read("11d 09:00", "sam"),
        reopen("5d 10:00", "priya",
            "Jasmine was missing again for two nights and found in Southend with older males."),
        note("4d 15:00", "tom", K.HOME_VISIT,
            "Visited with the police missing person coordinator. Jasmine agreed to meet weekly.",
            shared=True))),
    Story("jake", "lewis", CHARITY, "20d 10:00",
        "Jake is on the edge of a Basildon group involved in robberies. He wants to get out; "
        "mentoring requested.",
        MEDIUM, (F.GANG_ASSOCIATION, F.PEER_VIOLENCE), C.OBTAINED_FROM_CHILD, B.CONSENT,
        steps=(
        submit("20d 10:10"),
        accept("19d 11:00", "grace"),
        assign("19d 11:05", "grace", "grace"),
        note("17d 16:00", "grace", K.INTERVENTION,
            "First mentoring session at the gym; Jake came on time.", shared=True),
        note("10d 16:00", "grace", K.CONTACT, "Jake missed a session; texted, he will come "
            "next week."),
        note("6d 15:00", "grace", K.MULTI_AGENCY_MEETING,
            "Meeting with police and school: Jake disclosed a debt. Agreed to ask the YJS "
            "for prevention work.", shared=True),
        share("4d 12:10", "grace", YJS,
            "So the YJS sees the mentoring work while it triages our referral about Jake",
            60))),
]

# Children an agency already holds a referral about, referred again by another.
SECOND_REFERRALS = [
    Story("chloe", "tom", CHARITY, "2d 10:30",
        "Chloe would like a place in Safer Futures' girls' group alongside YJS work on "
        "healthy relationships.",
        LOW, (F.SEXUAL_EXPLOITATION,), C.OBTAINED_FROM_CHILD, B.CONSENT,
        steps=(submit("2d 11:00"),)),
    Story("reece", "priya", CHARITY, "12d 11:00",
        "Reece needs a safe, structured activity after the stabbing: boxing mentoring.",
        MEDIUM, (F.PEER_VIOLENCE,), C.OBTAINED_FROM_CHILD, B.CONSENT, steps=(
        submit("12d 11:05"),
        accept("11d 10:00", "grace"),
        assign("11d 10:05", "grace", "grace"),
        note("8d 16:00", "grace", K.INTERVENTION, "First session at the boxing club.",
            shared=True),
        share("8d 16:30", "grace", POLICE,
            "Essex Police's safeguarding plan after the stabbing: officers to know of the "
            "mentoring sessions and where they are held", 30),
        note("1d 16:30", "grace", K.CONTACT, "Reece has been to every session so far.",
            shared=True))),
    Story("jake", "grace", YJS, "4d 11:30",
        "Jake told his mentor he carried drugs for an older group to pay off a debt, and has "
        "a new injury he will not explain. More than mentoring can hold.",
        MEDIUM, (F.CRIMINAL_EXPLOITATION, F.COUNTY_LINES), C.OBTAINED_FROM_CHILD,
        B.PUBLIC_TASK, steps=(submit("4d 12:00"),)),
    Story("imani", "grace", YJS, "15d 14:00",
        "Since finishing mentoring Imani has been missing twice and was found with drugs on "
        "her. Asking for YJS prevention work.",
        MEDIUM, (F.CRIMINAL_EXPLOITATION, F.MISSING_EPISODES), C.OBTAINED_FROM_CHILD,
        B.PUBLIC_TASK, steps=(
        submit("15d 14:10"),
        accept("14d 10:00", "priya"),
        assign("14d 10:05", "priya", "tom"),
        note("12d 15:00", "tom", K.HOME_VISIT, "First visit with Imani and her mother.",
            shared=True),
        note("5d 11:00", "tom", K.INTERVENTION, "County lines awareness session."))),
    Story("ethan", "grace", POLICE, "2d 09:10",
        "Ethan told his mentor he is being pressured to take a package to Southend this "
        "weekend and named an older male. For safeguarding and disruption.",
        HIGH, (F.COUNTY_LINES, F.CRIMINAL_EXPLOITATION), C.OBTAINED_FROM_CHILD,
        B.VITAL_INTERESTS, steps=(submit("2d 09:30"),)),
    Story("aisha", "grace", POLICE, "4d 16:00",
        "At the girls' group Aisha said an older boy asks her to hold phones for him. For "
        "safeguarding and to identify him.",
        MEDIUM, (F.CRIMINAL_EXPLOITATION,), C.OBTAINED_FROM_CHILD, B.PUBLIC_TASK, steps=(
        submit("4d 16:10"),
        accept("3d 08:30", "lewis"),
        assign("3d 08:35", "lewis", "lewis"),
        note("3d 13:00", "lewis", K.CONTACT, "Named male identified; intelligence logged."),
        note("1d 18:00", "lewis", K.NOTE,
            "Officers visited the address of concern; the male was given a warning.",
            shared=True))),
    Story("harvey", "priya", POLICE, "1d 09:50",
        "Harvey's school reports he is being collected at lunchtime by unknown adults in a "
        "car. He declined our support last month. Please assess.",
        MEDIUM, (F.CRIMINAL_EXPLOITATION,), C.NOT_SOUGHT, B.PUBLIC_TASK,
        "Not sought: Harvey and his father declined support; the risk has risen since.",
        steps=(submit("1d 10:10"),)),
    # Children's services: a police referral Helen works herself, and her
    # own unfinished referral to the charity.
    Story("kai", "lewis", COUNCIL, "6d 11:00",
        "Kai's mother called 101: he came home with a cut hand and will not say how. Officers "
        "found a group chat offering him 'work' in Southend. Children's services to assess.",
        HIGH, (F.CRIMINAL_EXPLOITATION, F.COUNTY_LINES), C.OBTAINED_FROM_PARENT, B.PUBLIC_TASK,
        steps=(
        submit("6d 11:10"),
        accept("5d 09:00", "helen"),
        assign("5d 09:05", "helen", "helen"),
        note("4d 15:00", "helen", K.HOME_VISIT,
            "Home visit with Kai and his mother. Kai admitted being asked to carry packages; "
            "agreed to a strategy discussion.", shared=True))),
    Story("ellis", "helen", CHARITY, "1d 12:00",
        "Ellis needs a mentor after school: his social worker thinks the bus station group "
        "is drawing him in. Still to agree the start date with his carer.", LOW),
]
# fmt: on

STORIES = DRAFTS + AWAITING_TRIAGE + IN_PROGRESS + SECOND_REFERRALS
