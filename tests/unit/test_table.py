"""Unit tests for prefork_modpy.runtime.table.Table (mod_python's mp_table, spec 3.3 and the
upstream `_test_table` battery of spec 6.11)."""

import pytest

from mod_python import apache
from prefork_modpy.runtime.table import Table


def test_empty_table():
    d = apache.table()
    assert list(d.keys()) == []
    assert ("a" in d) is False
    assert "a" not in d
    assert len(d) == 0
    assert not d
    assert repr(d) == "{}"


def test_case_insensitive_and_first_case_kept():
    t = Table()
    t["Content-Type"] = "text/html"
    t["content-type"] = "text/plain"
    assert t["CONTENT-TYPE"] == "text/plain"
    assert t.keys() == ["Content-Type"]
    assert "content-TYPE" in t
    del t["CONTENT-type"]
    assert len(t) == 0


def test_add_makes_list_and_get_returns_first():
    t = Table()
    t["a"] = "b"
    t.add("A", "c")
    assert t["a"] == ["b", "c"]
    assert t.get("a") == "b"
    assert t.getall("a") == ["b", "c"]
    assert t.get_all("a") == ["b", "c"]
    assert t.getall("missing") == []
    assert len(t) == 2
    assert t.keys() == ["a", "A"]
    assert t.values() == ["b", "c"]
    assert t.items() == [("a", "b"), ("A", "c")]
    assert list(t) == ["a", "A"]


def test_set_replaces_all_values_in_place_of_the_first():
    t = Table()
    t["x"] = "1"
    t["y"] = "2"
    t.add("X", "3")
    t["z"] = "4"
    t["x"] = "5"
    assert t.items() == [("x", "5"), ("y", "2"), ("z", "4")]
    assert t["x"] == "5"


def test_delete_removes_every_value_and_missing_is_silent():
    t = Table([("a", "1"), ("b", "2")])
    t.add("a", "3")
    del t["A"]
    assert t.items() == [("b", "2")]
    del t["nope"]  # apr_table_unset never fails
    assert t.items() == [("b", "2")]


def test_missing_key_raises_keyerror():
    with pytest.raises(KeyError):
        Table()["nope"]


@pytest.mark.parametrize("bad", [3, None, 1.5, object()])
def test_values_must_be_strings(bad):
    t = Table()
    with pytest.raises(TypeError, match="not an ISO-8859-1 string"):
        t["c"] = bad
    with pytest.raises(TypeError, match="not an ISO-8859-1 string"):
        t.add("c", bad)
    with pytest.raises(TypeError, match="not an ISO-8859-1 string"):
        t[bad] = "x"


def test_non_latin1_string_rejected_latin1_accepted():
    t = Table()
    with pytest.raises(TypeError):
        t["k"] = "\u20ac"
    t["k"] = "caf\xe9"
    assert t["k"] == "caf\xe9"


def test_bytes_are_decoded_latin1():
    t = Table()
    t[b"K"] = b"caf\xe9"
    assert t["k"] == "caf\xe9"
    assert t[b"k"] == "caf\xe9"
    assert b"K" in t
    assert t.keys() == ["K"]


def test_str_subclass_stored_as_plain_str():
    class S(str):
        def __str__(self):
            return "wrong"

    t = Table()
    t["k"] = S("v")
    assert type(t["k"]) is str and t["k"] == "v"


def test_constructor_and_update_str_the_items():
    assert Table({1: 1}) == {"1": "1"}
    assert Table([(1, 2), ("a", "b")]).items() == [("1", "2"), ("a", "b")]
    with pytest.raises(ValueError):
        Table([("a", "b", "c")])
    with pytest.raises(TypeError):
        Table([1])


def test_dict_protocol_basics():
    d = apache.table({"a": "1", "b": "2"})
    assert sorted(d.keys()) == ["a", "b"]
    assert "a" in d and "b" in d and "c" not in d
    assert d["a"] == "1" and d["b"] == "2"
    d["c"] = "3"
    d["a"] = "4"
    assert d["c"] == "3" and d["a"] == "4"
    del d["b"]
    assert d == {"a": "4", "c": "3"}
    assert d != {"a": "4"}
    assert d.has_key("a") == 1 and d.has_key("zz") == 0


def test_clear():
    d = apache.table()
    d["1"] = "1"
    d["2"] = "2"
    d.clear()
    assert d == apache.table()
    assert len(d) == 0


def test_update_variants():
    d = apache.table()
    d.update({"1": "100"})
    d.update({"2": "20"})
    d.update({"1": "1", "2": "2", "3": "3"})
    assert d == apache.table({"1": "1", "2": "2", "3": "3"})
    d.clear()
    with pytest.raises(AttributeError):
        d.update(None)

    class SimpleUserDict:
        def __init__(self):
            self.d = {1: 1, 2: 2, 3: 3}

        def keys(self):
            return list(self.d.keys())

        def __getitem__(self, i):
            return self.d[i]

    d.update(SimpleUserDict())
    assert d == apache.table({1: 1, 2: 2, 3: 3})


def test_update_propagates_user_errors():
    d = apache.table()

    class KeysFail:
        def keys(self):
            raise ValueError

    with pytest.raises(ValueError):
        d.update(KeysFail())

    class IterFail:
        def keys(self):
            class BogonIter:
                def __iter__(self):
                    raise ValueError

            return BogonIter()

    with pytest.raises(ValueError):
        d.update(IterFail())

    class NextFail:
        def keys(self):
            class BogonIter:
                def __init__(self):
                    self.i = 1

                def __iter__(self):
                    return self

                def __next__(self):
                    if self.i:
                        self.i = 0
                        return "a"
                    raise ValueError

            return BogonIter()

        def __getitem__(self, key):
            return key

    with pytest.raises(ValueError):
        d.update(NextFail())

    class GetItemFail:
        def keys(self):
            return iter("abc")

        def __getitem__(self, key):
            raise ValueError

    with pytest.raises(ValueError):
        d.update(GetItemFail())


def test_copy():
    assert apache.table().copy() == apache.table()
    t = Table({"a": "1"})
    t.add("a", "2")
    c = t.copy()
    assert isinstance(c, Table)
    assert c.items() == t.items()
    c["a"] = "x"
    assert t["a"] == ["1", "2"]


def test_get_defaults():
    d = apache.table()
    assert d.get("c") is None
    assert d.get("c", "3") == "3"
    d = apache.table({"a": "1", "b": "2"})
    assert d.get("c") is None
    assert d.get("c", "3") == "3"
    assert d.get("a") == "1"
    assert d.get("a", "3") == "1"


def test_setdefault():
    d = apache.table()
    d.setdefault("key0")
    assert d.setdefault("key0") == ""
    assert d.setdefault("key0") == ""
    assert d.setdefault("key1", "v") == "v"
    assert d.setdefault("KEY1", "w") == "v"


@pytest.mark.parametrize("copymode", [-1, 1])
def test_popitem(copymode):
    for log2size in range(12):
        size = 2**log2size
        a = apache.table()
        b = apache.table()
        for i in range(size):
            a[repr(i)] = str(i)
            if copymode < 0:
                b[repr(i)] = str(i)
        if copymode > 0:
            b = a.copy()
        for _ in range(size):
            ka, va = ta = a.popitem()
            assert va == ka
            kb, vb = tb = b.popitem()
            assert vb == kb
            if copymode < 0:
                assert ta == tb
        assert not a and not b
    with pytest.raises(KeyError):
        apache.table().popitem()


def test_popitem_pops_oldest_and_keeps_index_consistent():
    t = Table()
    t.add("a", "1")
    t.add("b", "2")
    t.add("A", "3")
    assert t.popitem() == ("a", "1")
    assert t["a"] == "3"
    assert t.items() == [("b", "2"), ("A", "3")]


def test_pop_extension():
    t = Table({"a": "1"})
    assert t.pop("A") == "1"
    assert t.pop("a", None) is None
    with pytest.raises(KeyError):
        t.pop("a")


def test_iteration_and_mutation_during_iteration():
    d = apache.table({"a": "1", "b": "2", "c": "3"})
    assert [k for k in d] == ["a", "b", "c"]
    assert list(d.iteritems()) == d.items()
    assert list(d.itervalues()) == ["1", "2", "3"]
    with pytest.raises(RuntimeError):
        for k in d:
            d["new" + k] = "x"


def test_repr_is_dict_like_newest_first():
    t = Table()
    t["a"] = "1"
    t["b"] = "2"
    assert repr(t) == "{'b': '2', 'a': '1'}"


def test_eq_with_dict_uses_lists_for_duplicates():
    t = Table({"a": "1"})
    t.add("a", "2")
    assert t == {"a": ["1", "2"]}
    assert Table({"a": "1"}) == Table([("a", "1")])
    assert (Table() == 5) is False


def test_unhashable():
    with pytest.raises(TypeError):
        hash(Table())


def test_subclassable():
    class MyTable(Table):
        def extra(self):
            return len(self)

    t = MyTable({"a": "1"})
    t.add("b", "2")
    assert t.extra() == 2
    assert type(t.copy()) is MyTable
    assert type(MyTable._from_pairs([("a", "b")])) is MyTable


def test_from_pairs_and_wire():
    t = Table._from_pairs([("Host", "h"), ("X-Multi", "a"), ("x-multi", "b")])
    assert t["x-multi"] == ["a", "b"]
    assert t.items_for_wire() == [("Host", "h"), ("X-Multi", "a"), ("x-multi", "b")]
    merged = Table._from_pairs([("X-Multi", "a"), ("x-multi", "b")], merge=True)
    assert merged["X-MULTI"] == "a, b"
    assert merged.items_for_wire() == [("X-Multi", "a, b")]


def test_ascii_only_case_folding():
    # APR compares with strcasecmp: non-ASCII letters are not case-folded
    t = Table()
    t["\xc9"] = "upper"
    t["\xe9"] = "lower"
    assert len(t) == 2
    assert t["\xc9"] == "upper"


def test_pickle_and_copy_module():
    import copy
    import pickle

    t = Table({"a": "1"})
    t.add("A", "2")
    assert pickle.loads(pickle.dumps(t)).items() == t.items()
    assert copy.deepcopy(t).items() == t.items()
