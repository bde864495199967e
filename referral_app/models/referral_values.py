"""The values a referral's fields take (statuses, transitions, risk,
consent, lawful bases, outcomes, kinds of note), as enums: plain values the
models, schemas and pages share. Re-exported by models.referral."""

from __future__ import annotations

import enum


class ReferralStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class TransitionAction(enum.StrEnum):
    """The moves through the lifecycle (services.lifecycle says who may take
    each, and from where)."""

    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    ACCEPT = "accept"
    DECLINE = "decline"
    ASSIGN = "assign"
    CLOSE = "close"
    REOPEN = "reopen"


class RiskLevel(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class RiskFactor(enum.StrEnum):
    CRIMINAL_EXPLOITATION = "criminal_exploitation"
    COUNTY_LINES = "county_lines"
    WEAPON_CARRYING = "weapon_carrying"
    GANG_ASSOCIATION = "gang_association"
    MISSING_EPISODES = "missing_episodes"
    SUBSTANCE_MISUSE = "substance_misuse"
    SCHOOL_EXCLUSION = "school_exclusion"
    SEXUAL_EXPLOITATION = "sexual_exploitation"
    ONLINE_HARM = "online_harm"
    PEER_VIOLENCE = "peer_violence"
    DOMESTIC_ABUSE = "domestic_abuse"
    MENTAL_HEALTH = "mental_health"


class ConsentStatus(enum.StrEnum):
    OBTAINED_FROM_CHILD = "obtained_from_child"
    OBTAINED_FROM_PARENT = "obtained_from_parent"
    REFUSED = "refused"
    NOT_SOUGHT = "not_sought"
    # Recorded through the consent history (services.consent), never typed
    # on the referral form: withdrawal acts on the referral's live shares.
    WITHDRAWN = "withdrawn"


class LawfulBasis(enum.StrEnum):
    PUBLIC_TASK = "public_task"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTERESTS = "vital_interests"
    CONSENT = "consent"
    # DPA 2018 Part 3: processing by a competent authority (here police and
    # youth justice) for the law enforcement purposes (s.31).
    LAW_ENFORCEMENT = "law_enforcement"


class ConsentDecision(enum.StrEnum):
    """What the agency that granted a share decided when consent was withdrawn."""

    CONTINUE = "continue"  # go on sharing on another lawful basis
    REVOKE = "revoke"


class SpecialCategoryCondition(enum.StrEnum):
    """The condition for processing special category (or, under Part 3,
    sensitive) data about the child, when the referral holds any."""

    # UK GDPR Art 9(2)(g) and DPA 2018 Schedule 1 paragraph 18: safeguarding
    # of children and of individuals at risk.
    SAFEGUARDING_CHILDREN = "safeguarding_children"
    # DPA 2018 s.35 and Schedule 8 paragraph 4: the same purpose, for
    # processing for the law enforcement purposes.
    LAW_ENFORCEMENT_SAFEGUARDING = "law_enforcement_safeguarding"


class Outcome(enum.StrEnum):
    ENGAGED_AND_COMPLETED = "engaged_and_completed"
    DECLINED_SUPPORT = "declined_support"
    NOT_ENGAGED = "not_engaged"
    NO_FURTHER_ACTION = "no_further_action"
    ESCALATED_TO_CHILDRENS_SOCIAL_CARE = "escalated_to_childrens_social_care"
    TRANSFERRED = "transferred"
    MOVED_OUT_OF_AREA = "moved_out_of_area"


class NoteKind(enum.StrEnum):
    NOTE = "note"
    CONTACT = "contact"
    MEETING = "meeting"
    HOME_VISIT = "home_visit"
    INTERVENTION = "intervention"
    MULTI_AGENCY_MEETING = "multi_agency_meeting"


class NoteVisibility(enum.StrEnum):
    SHARED = "shared"
    INTERNAL = "internal"
