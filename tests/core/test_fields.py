"""The core's form reader (unionhub.web.fields): values, multi-valued fields, id lists, one
message per field, and the subclass's error raised with all of them."""

from __future__ import annotations

import pytest

from unionhub.web.fields import FieldReader


class FormError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class Reader(FieldReader):
    error = FormError


def test_values_and_id_lists(app) -> None:
    with app.test_request_context():
        f = Reader({"name": ["  工会  ", "x"], "empty": None, "ids": ["3", " 1", "3", ""],
                    "bad": ["2", "x"], "long": ["1234567890"]})
        assert f.raw("name") == "工会" and f.raw("empty") == "" and f.raw("missing") == ""
        assert f.many("ids") == ["3", "1", "3"]
        assert f.ids("ids", "门店") == [1, 3]
        assert f.ids("bad", "门店") == [] and f.ids("long", "门店") == []
        assert set(f.errors) == {"bad", "long"}


def test_first_message_per_field_and_done_raises_the_subclass_error(app) -> None:
    with app.test_request_context():
        f = Reader({})
        f.done()  # nothing wrong: no error
        f.fail("title", "请填写标题")
        f.fail("title", "标题太长")
        with pytest.raises(FormError) as caught:
            f.done()
        assert caught.value.errors == {"title": "请填写标题"}
