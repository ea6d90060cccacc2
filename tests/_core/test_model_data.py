"""The view-data flows' requests: the `exportType` layouts and the module id the tabular ones
need, decided in the core with no sockets."""

from __future__ import annotations

import pytest

from anaplan_tasks._core import model_data as core
from anaplan_tasks._core.flow import Request, Response
from anaplan_tasks.errors import NotFoundError

from .scripted import Scripted, json_response

VIEWS = {
    "meta": {"paging": {"currentPageSize": 2, "offset": 0, "totalSize": 2}},
    "views": [
        {"id": "102000000001", "name": "Revenue", "moduleId": "102000000001", "code": ""},
        {"id": "1186000000001", "name": "Revenue.By Month", "moduleId": "102000000001", "code": ""},
    ],
}


def test_a_layout_other_than_the_current_page_is_sent_as_export_type() -> None:
    env = Scripted(lambda request: Response(200, {}, b"a,b\n"))
    ctx = env.context()
    assert env.run(core.view_csv(ctx, "102000000001", None)) == 4
    assert "exportType" not in env.sent[0].params
    env.run(core.view_csv(ctx, "102000000001", {"20000000020": "107000000001"}, "GRID_ALL_PAGES"))
    assert env.sent[1].params == {
        "pages": "20000000020:107000000001",
        "exportType": "GRID_ALL_PAGES",
    }
    env.run(core.view_csv(ctx, "1186000000001", None, "TABULAR_MULTI_COLUMN", "102000000001"))
    assert env.sent[2].params == {"exportType": "TABULAR_MULTI_COLUMN", "moduleId": "102000000001"}
    assert env.emitted == [b"a,b\n"] * 3


def test_the_module_of_a_view_comes_from_the_view_listing() -> None:
    def answer(request: Request) -> Response:
        assert request.url.endswith("/views")
        return json_response(200, VIEWS)

    env = Scripted(answer)
    assert env.run(core.view_module_id(env.context(), "1186000000001")) == "102000000001"
    with pytest.raises(NotFoundError):
        env.run(core.view_module_id(env.context(), "1186000000009"))
