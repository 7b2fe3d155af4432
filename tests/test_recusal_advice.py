"""Issue 25, item 9: refusing a record incomplete by recusal suggests what can work.

`panel rerun` repeats the same panel, so it recuses the same seats again; the refusal now
names another panel (`panel review A B --provider ...`) instead.
"""

from __future__ import annotations

import pytest

from panel.errors import PanelError
from panel.paths import Home
from panel.records.editorial import approve
from panel.records.io import read_record
from tests.support.desk import A, B, client, flashes, post, save_rich
from tests.support.records import save_record, tool


def test_incomplete_by_recusal_suggests_another_panel(home: Home) -> None:
    # Every verdict on Alpha fails except the recused ones: quorum is lost to the recusal.
    path = save_rich(home.runs, A, B, fail=lambda c: c.tool == A.slug and not c.recused)
    record = read_record(path)
    assert record.status == "incomplete" and record.totals.recused
    with pytest.raises(PanelError) as refused:
        approve(home.runs, path, "gina")
    message = str(refused.value)
    assert "panel rerun" not in message.split("(a rerun")[0]
    assert f"`panel review {A.slug} {B.slug} --provider PROVIDER`" in message
    assert "a rerun would recuse" in message
    rid = path.relative_to(home.runs).with_suffix("").as_posix()
    desk = client(home)
    post(desk, f"/records/{rid}/approve", {})
    (shown,) = flashes(desk.get(f"/records/{rid}").text)
    assert "--provider PROVIDER" in shown


def test_incomplete_without_recusal_still_suggests_a_rerun(home: Home) -> None:
    path = save_record(home.runs, tool("x-tool"), tool("y-tool"))
    record = read_record(path)
    calls = [c.model_copy(update={"status": "failed"}) for c in record.calls]
    failing = record.model_copy(update={"calls": calls, "status": "incomplete"})
    path.write_text(failing.model_dump_json())
    with pytest.raises(PanelError, match=r"re-run it with `panel rerun"):
        approve(home.runs, path, "gina")
