"""How well matching finds the same child: precision and recall on the
labelled set of tests/children/matching_pairs.py, scored as the service
scores (child_likeness.score, a match at LIKELY_SCORE or more). The figures
are in the README ("Finding the same child"); re-measure with
`.venv/bin/pytest -q -s tests/children/test_matching_figures.py`."""

from __future__ import annotations

from collections import Counter

from referral_app.services.child_likeness import LIKELY_SCORE, score
from tests.children.matching_pairs import pairs

MIN_PRECISION = 0.95
MIN_RECALL = 0.95


def test_the_labelled_set_is_large_labelled_and_the_same_every_run():
    labelled = pairs()
    assert len(labelled) >= 200
    kinds = Counter(pair.same_child for pair in labelled)
    assert kinds[True] >= 100
    assert kinds[False] >= 100
    assert {pair.category for pair in labelled} >= {
        "typo",
        "nickname",
        "diminutive",
        "names_swapped",
        "day_month_swapped",
        "hyphenated",
        "double_barrelled",
        "transliteration",
        "twins",
        "siblings",
        "namesakes",
        "near_names",
    }
    assert pairs() == labelled


def test_precision_and_recall_on_the_labelled_set():
    found: Counter[str] = Counter()  # matched, by category
    totals: Counter[str] = Counter()
    true_positives = false_positives = false_negatives = 0
    mistakes = []
    for pair in pairs():
        matched = score(pair.one, pair.other).score >= LIKELY_SCORE
        totals[pair.category] += 1
        found[pair.category] += int(matched)
        if matched and pair.same_child:
            true_positives += 1
        elif matched:
            false_positives += 1
        elif pair.same_child:
            false_negatives += 1
        if matched != pair.same_child:
            mistakes.append(
                f"{pair.category}: {pair.one.first_name} {pair.one.last_name} "
                f"{pair.one.date_of_birth} ~ {pair.other.first_name} {pair.other.last_name} "
                f"{pair.other.date_of_birth}"
            )
    precision = true_positives / (true_positives + false_positives)
    recall = true_positives / (true_positives + false_negatives)
    print(f"\n{sum(totals.values())} pairs: precision {precision:.3f}, recall {recall:.3f}")
    for category, total in totals.items():
        print(f"  {category}: {found[category]} of {total} matched")
    print("  mistakes:", *mistakes, sep="\n    ")
    assert precision >= MIN_PRECISION, mistakes
    assert recall >= MIN_RECALL, mistakes
