"""Version 1 of the exploitation screening tool. Never edit a released
version (screenings made with it are read with it): copy it to a new
module, change that, and register it in screening_tools.TOOLS.

The indicators follow the signs listed in the Home Office's county lines
guidance and the Children's Society's exploitation screening tools; the
weights and thresholds are the partnership's, to be reviewed with it."""

from __future__ import annotations

from typing import Any

DEFINITION: dict[str, Any] = {
    "version": 1,
    "title": "Child exploitation screening tool (version 1)",
    # Sum of the weights of the "yes" answers: below 3 low, 3 to 5 medium, 6 or more high.
    "thresholds": {"medium_from": 3, "high_from": 6},
    "young": {"under_age": 13, "floor": "medium"},
    "floors": {
        "weapon_found": "high",
        "missing_overnight": "medium",
        "adult_control": "high",
    },
    "themes": [
        {
            "id": "missing",
            "title": "Going missing",
            "indicators": [
                {
                    "id": "missing_episodes",
                    "question": (
                        "Has gone missing from home, school or care in the last three months"
                    ),
                    "weight": 2,
                },
                {"id": "missing_overnight", "question": "Has been missing overnight", "weight": 2},
                {
                    "id": "missing_no_account",
                    "question": "Comes back from missing with no account of where they were",
                    "weight": 1,
                },
            ],
        },
        {
            "id": "money_phones",
            "title": "Unexplained money, phones or belongings",
            "indicators": [
                {
                    "id": "unexplained_money",
                    "question": "Has money they cannot account for",
                    "weight": 1,
                },
                {
                    "id": "several_phones",
                    "question": "Has more than one phone, or a new phone they cannot account for",
                    "weight": 1,
                },
                {
                    "id": "new_belongings",
                    "question": "Has new clothes, trainers or jewellery they cannot account for",
                    "weight": 1,
                },
                {"id": "debt", "question": "Says they owe money or a debt to someone", "weight": 2},
            ],
        },
        {
            "id": "associates",
            "title": "Older associates and relationships",
            "indicators": [
                {
                    "id": "older_associates",
                    "question": "Spends time with older young people or adults who are a concern",
                    "weight": 2,
                },
                {
                    "id": "adult_control",
                    "question": "An adult appears to control where they go or what they do",
                    "weight": 3,
                },
                {
                    "id": "peer_group_change",
                    "question": "Has left their usual friends for a new group",
                    "weight": 1,
                },
            ],
        },
        {
            "id": "out_of_area",
            "title": "Found out of area",
            "indicators": [
                {
                    "id": "found_out_of_area",
                    "question": "Has been found in a town or city they have no link to",
                    "weight": 2,
                },
                {
                    "id": "travel_unexplained",
                    "question": "Has train tickets, taxi receipts or travel they cannot explain",
                    "weight": 1,
                },
            ],
        },
        {
            "id": "drugs_weapons",
            "title": "Drug or weapon finds",
            "indicators": [
                {
                    "id": "drugs_found",
                    "question": "Has been found with drugs packaged for sale",
                    "weight": 2,
                },
                {"id": "weapon_found", "question": "Has been found with a weapon", "weight": 3},
                {
                    "id": "drug_use",
                    "question": "Uses drugs or alcohol in a way that worries you",
                    "weight": 1,
                },
            ],
        },
        {
            "id": "education",
            "title": "School",
            "indicators": [
                {
                    "id": "excluded",
                    "question": "Has been excluded from school, or moved to alternative provision",
                    "weight": 2,
                },
                {"id": "absence", "question": "Is persistently absent from school", "weight": 1},
            ],
        },
        {
            "id": "online",
            "title": "Online contact",
            "indicators": [
                {
                    "id": "online_unknown_adults",
                    "question": (
                        "Is in contact online with adults or older young people you do not know"
                    ),
                    "weight": 1,
                },
                {
                    "id": "online_pressure",
                    "question": "Has been pressured or threatened online, or had images shared",
                    "weight": 2,
                },
            ],
        },
        {
            "id": "injuries",
            "title": "Injuries and harm",
            "indicators": [
                {
                    "id": "unexplained_injuries",
                    "question": "Has injuries they cannot or will not explain",
                    "weight": 2,
                },
                {
                    "id": "assaulted",
                    "question": "Has been assaulted, threatened or robbed",
                    "weight": 2,
                },
            ],
        },
    ],
}
