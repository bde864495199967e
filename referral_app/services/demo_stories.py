"""The demo's cases: fictional children and the story of each referral, from
its creation to where it stands today. services.demo_referrals tells them
through the services.

Times are written as "29d 10:30" (29 days ago at 10:30 UK time) or "3h"
(three hours ago); each story's steps are in the order they happened.
The people: sam (PC Sam Okafor, Essex Police referrer), lewis (Insp. Lewis
Grant, Essex Police manager), priya (Priya Shah, YJS manager), tom (Tom
Bennett, YJS caseworker), grace (Grace Adeyemi, Safer Futures manager),
helen (Helen Carter, Essex County Council children's services manager).
"""

from __future__ import annotations

from dataclasses import dataclass

from referral_app.models import ConsentStatus as C
from referral_app.models import LawfulBasis as B
from referral_app.models import NoteKind as K
from referral_app.models import Outcome, RiskLevel
from referral_app.models import RiskFactor as F

HIGH, MEDIUM, LOW = RiskLevel.HIGH, RiskLevel.MEDIUM, RiskLevel.LOW
YJS, POLICE, CHARITY, COUNCIL = "essex-yjs", "essex-police", "safer-futures", "essex-cc-childrens"


@dataclass(frozen=True)
class DemoChild:
    first_name: str
    last_name: str
    years: int  # born this many calendar years ago (11 to 16: aged 10 to 17)
    month: int
    day: int
    gender: str
    postcode: str
    address: str
    school: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    at: str
    action: str  # a lifecycle action, or "note", "share", "revoke", "read"
    by: str = ""  # empty: the referrer
    text: str = ""  # the reason, note, share purpose or outcome summary
    outcome: Outcome | None = None
    assignee: str = ""
    kind: K | None = None
    shared: bool = False
    organisation: str = ""
    days: int = 0  # a share lasts this many days from today
    basis: B = B.PUBLIC_TASK


@dataclass(frozen=True)
class Story:
    child: str
    by: str
    to: str
    at: str
    reason: str | None
    risk: RiskLevel | None = None
    factors: tuple[F, ...] = ()
    consent: C | None = None
    basis: B | None = None
    consent_notes: str | None = None
    steps: tuple[Step, ...] = ()


def submit(at: str) -> Step:
    return Step(at, "submit")


def withdraw(at: str, reason: str) -> Step:
    return Step(at, "withdraw", text=reason)


def accept(at: str, by: str) -> Step:
    return Step(at, "accept", by)


def assign(at: str, by: str, to: str) -> Step:
    return Step(at, "assign", by, assignee=to)


def decline(at: str, by: str, reason: str) -> Step:
    return Step(at, "decline", by, reason)


def close(at: str, by: str, outcome: Outcome, summary: str) -> Step:
    return Step(at, "close", by, summary, outcome=outcome)


def reopen(at: str, by: str, reason: str) -> Step:
    return Step(at, "reopen", by, reason)


def note(at: str, by: str, kind: K, body: str, *, shared: bool = False) -> Step:
    return Step(at, "note", by, body, kind=kind, shared=shared)


def share(
    at: str, by: str, organisation: str, purpose: str, days: int, basis: B = B.PUBLIC_TASK
) -> Step:
    return Step(at, "share", by, purpose, organisation=organisation, days=days, basis=basis)


def revoke(at: str, by: str, organisation: str) -> Step:
    return Step(at, "revoke", by, organisation=organisation)


def read(at: str, by: str) -> Step:
    """The user reads their notifications about the referral (an outcome, say)."""
    return Step(at, "read", by)


# Obviously fictional: the surnames are made of "sample", "example", "demo",
# "test", "mock", "fiction", "trial", "pilot", "specimen" and "proto".
# fmt: off
CHILDREN: dict[str, DemoChild] = {
    "kai": DemoChild("Kai", "Sampleton", 14, 3, 12, "Male", "CM1 2XE",
        "12 Example Road, Chelmsford", "Chelmer Example Academy"),
    "amara": DemoChild("Amara", "Exampleby", 15, 7, 3, "Female", "SS14 1QB",
        "4 Demo Close, Basildon", "Basildon Sample Academy"),
    "tyler": DemoChild("Tyler", "Demoford", 13, 11, 21, "Male", "CO1 1ZT",
        "27 Specimen Street, Colchester", "Colne Example School"),
    "mia": DemoChild("Mia", "Testley", 12, 4, 13, "Female", "CM15 8AS",
        "21 Sample Road, Brentwood", "Brentwood Demo High"),
    "leah": DemoChild("Leah", "Testwood", 15, 1, 9, "Female", "CM20 3HN",
        "8 Placeholder Way, Harlow", "Harlow Trial Academy"),
    "jayden": DemoChild("Jayden", "Mockridge", 16, 5, 17, "Male", "SS13 2LA",
        "Flat 3, 19 Sample Court, Basildon", "Basildon Sample Academy", ("JJ",)),
    "ruby": DemoChild("Ruby", "Fictonby", 14, 9, 28, "Female", "CO15 4RF",
        "41 Example Avenue, Clacton-on-Sea", "Tendring Demo Academy"),
    "mason": DemoChild("Mason", "Trialfield", 12, 2, 14, "Male", "CM7 9GH",
        "6 Pretend Lane, Braintree", "Braintree Example School"),
    "zara": DemoChild("Zara", "Pilotwell", 13, 6, 6, "Female", "CM8 1BW",
        "15 Demo Gardens, Witham", "Witham Sample School"),
    "oliver": DemoChild("Oliver", "Specimenham", 15, 12, 2, "Male", "CM2 6TU",
        "90 Example Road, Chelmsford", "Chelmer Example Academy"),
    "maya": DemoChild("Maya", "Protoley", 14, 4, 25, "Female", "CM14 4DX",
        "3 Sample Row, Brentwood", "Brentwood Demo High"),
    "ethan": DemoChild("Ethan", "Sampleworth", 16, 8, 19, "Male", "CM1 3PL",
        "22 Trial Crescent, Chelmsford", "Chelmer Example Academy", ("Little E",)),
    "chloe": DemoChild("Chloe", "Examplecombe", 15, 10, 10, "Female", "CM18 6YA",
        "57 Fiction Street, Harlow", "Harlow Trial Academy"),
    "reece": DemoChild("Reece", "Demostead", 16, 1, 30, "Male", "SS12 9AE",
        "11 Mock Drive, Wickford", "Wickford Pilot School"),
    "aisha": DemoChild("Aisha", "Testhurst", 14, 5, 5, "Female", "CO4 5NJ",
        "2 Example Mews, Colchester", "Colne Example School"),
    "callum": DemoChild("Callum", "Mockshaw", 13, 7, 22, "Male", "SS6 8JQ",
        "70 Demo Road, Rayleigh", "Rayleigh Sample Academy"),
    "nia": DemoChild("Nia", "Fictonfield", 15, 3, 3, "Female", "SS16 5PD",
        "18 Specimen Way, Basildon", "Basildon Sample Academy"),
    "harvey": DemoChild("Harvey", "Trialton", 16, 11, 11, "Male", "CM9 6EE",
        "9 Placeholder Close, Maldon", "Maldon Example School"),
    "isla": DemoChild("Isla", "Pilotby", 14, 2, 27, "Female", "CB11 3AQ",
        "33 Sample Hill, Saffron Walden", "Walden Demo School"),
    "deshawn": DemoChild("Deshawn", "Specimenford", 15, 6, 18, "Male", "IG10 1SD",
        "5 Example Parade, Loughton", "Loughton Trial School"),
    "poppy": DemoChild("Poppy", "Protowood", 12, 9, 9, "Female", "SS8 0AT",
        "48 Mock Street, Canvey Island", "Canvey Example Academy"),
    "kieran": DemoChild("Kieran", "Sampleridge", 16, 4, 4, "Male", "CO12 3HX",
        "14 Demo Terrace, Harwich", "Harwich Sample School"),
    "sofia": DemoChild("Sofia", "Exampleham", 13, 12, 15, "Female", "CM16 4LN",
        "60 Trial Road, Epping", "Epping Pilot School"),
    "alfie": DemoChild("Alfie", "Demoley", 14, 8, 1, "Male", "CM12 0RT",
        "7 Fiction Close, Billericay", "Billericay Example School"),
    "ellie": DemoChild("Ellie", "Testworth", 15, 5, 26, "Female", "CO9 2DP",
        "25 Sample Lane, Halstead", "Halstead Demo School"),
    "tyrese": DemoChild("Tyrese", "Mockcombe", 16, 10, 7, "Male", "CM1 1HT",
        "101 Example Road, Chelmsford", "Chelmer Example Academy"),
    "jasmine": DemoChild("Jasmine", "Fictonstead", 15, 2, 2, "Female", "SS7 1UB",
        "16 Placeholder Walk, Benfleet", "Benfleet Trial Academy"),
    "connor": DemoChild("Connor", "Trialhurst", 14, 11, 29, "Male", "CO15 6PS",
        "39 Demo Avenue, Clacton-on-Sea", "Tendring Demo Academy"),
    "layla": DemoChild("Layla", "Pilotshaw", 13, 3, 24, "Female", "CM6 1ZW",
        "2 Sample Square, Great Dunmow", "Dunmow Example School"),
    "jake": DemoChild("Jake", "Specimenton", 16, 7, 8, "Male", "SS14 3FR",
        "80 Mock Road, Basildon", "Basildon Sample Academy"),
    "imani": DemoChild("Imani", "Protoby", 15, 9, 16, "Female", "CO2 7HE",
        "12 Fiction Gardens, Colchester", "Colne Example School"),
    "ryan": DemoChild("Ryan", "Sampleford", 11, 1, 19, "Male", "CM20 1LY",
        "5 Example Close, Harlow", "Harlow Trial Academy"),
    "freya": DemoChild("Freya", "Testington", 14, 10, 31, "Female", "CM2 9DN",
        "31 Demo Way, Chelmsford", "Chelmer Example Academy"),
    "evie": DemoChild("Evie", "Examplewood", 14, 6, 23, "Female", "CM8 2QN",
        "44 Demo Street, Witham", "Witham Sample School"),
    "ellis": DemoChild("Ellis", "Sampleworth", 13, 8, 4, "Male", "SS2 5TQ",
        "9 Trial Street, Southend-on-Sea", "Southend Demo Academy"),
}
# fmt: on
