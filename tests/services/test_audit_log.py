"""The audit log's one-line summary of what each kind of event changed."""

import pytest

from webapp.services.audit_log import change_summary

DECIDED_AT = "2026-03-10T12:00:00+00:00"


def state(version=1, **changes) -> dict:
    """An article's moderation state as an audit event stores it (before or after)."""
    pending = {
        "status": "pending",
        "heat": -1,
        "decided_by_id": None,
        "decided_at": None,
        "reject_reason": None,
    }
    return pending | {"version": version} | changes


APPROVED = {"status": "approved", "decided_by_id": 1, "decided_at": DECIDED_AT}
REJECTED = {"status": "rejected", "decided_by_id": 1, "decided_at": DECIDED_AT}
MERGE_MAP = {"0": None, "1": None, "2": None, "3": None}


@pytest.mark.parametrize(
    "action, before, after, summary",
    [
        ("approve", state(), state(2, **APPROVED), "pending → approved"),
        ("reject", state(), state(2, **REJECTED), "pending → rejected"),
        (
            "reject",
            state(),
            state(2, **REJECTED, reject_reason="off topic"),
            "pending → rejected; reason: off topic",
        ),
        ("approve", state(**REJECTED), state(2, **APPROVED), "rejected → approved"),
        ("reopen", state(**APPROVED), state(2), "approved → pending"),
        ("heat", state(), state(2, heat=40), "heat not set → 40"),
        ("heat", state(heat=40), state(2, heat=120), "heat 40 → 120"),
        ("heat", state(heat=40), state(2, heat=0), "heat 40 → 0"),
        ("undo", state(2, heat=40), state(3, heat=-1, undoes=7), "heat 40 → not set"),
        ("undo", state(2, **APPROVED), state(3, undoes=7), "approved → pending"),
        (
            "merge",
            state(merges=MERGE_MAP),
            state(2, merges=MERGE_MAP | {"2": 1, "3": 1}),
            "2 related links merged",
        ),
        (
            "absorb",
            state(absorbed=None),
            state(2, absorbed={"from": 7}),
            "related links added from #7",
        ),
        ("undo", state(2, absorbed={"from": 7}), state(3, absorbed=None, undoes=9), "undo"),
        ("approve", state(**APPROVED), state(2, **APPROVED), "approve"),
        ("heat", None, None, "heat"),
        ("heat", state(heat=40), {}, "heat"),
    ],
)
def test_each_kind_of_event_is_summed_up_by_what_it_changed(action, before, after, summary):
    assert change_summary(action, before, after) == summary


def test_a_heat_from_before_heat_was_recorded_reads_not_set():
    assert (
        change_summary("heat", {"status": "pending"}, {"status": "pending", "heat": 5}) == "heat not set → 5"
    )
