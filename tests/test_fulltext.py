"""Segmentation, folding and query building, from strings: what the index and the queries are made of."""
from __future__ import annotations

import pytest

from cqnews.db import fulltext
from cqnews.db.fulltext import (
    QuerySyntaxError,
    fold,
    fts5_expression,
    index_terms,
    parse_query,
    query_terms,
    tsquery_expression,
)


def test_fold_traditional_full_width_and_case() -> None:
    assert fold("經濟發展 重慶市") == "经济发展 重庆市"
    assert fold("ＣＯＶＩＤ－１９ 双城") == "covid-19 双城"


def test_index_terms_hold_two_character_words_inside_longer_ones() -> None:
    terms = index_terms("渝北区将对标两中心两地战略目标，重庆市民说成渝地区双城经济圈建设加快。")
    assert {"渝北", "渝北区", "重庆", "双城经济圈", "经济", "成渝"} <= set(terms)
    assert all(t == t.strip() and t for t in terms)
    assert "，" not in "".join(terms)  # punctuation is not a word


def test_traditional_text_indexes_like_simplified() -> None:
    assert index_terms("成渝地區雙城經濟圈建設") == index_terms("成渝地区双城经济圈建设")


def test_query_terms_are_the_precise_words() -> None:
    assert query_terms("双城经济圈") == ["双城经济圈"]
    assert query_terms("雙城經濟圈") == ["双城经济圈"]
    assert query_terms("重庆") == ["重庆"]
    assert query_terms("***") == []


def test_parse_query_groups_or_and_exclusions() -> None:
    query = parse_query('渝北 "沙坪坝 大学城" 火锅 OR 轻轨 -广告')
    assert query.groups[0] == [["渝北"]]
    assert query.groups[1][0][0] == "沙坪坝"
    assert query.groups[2] == [["火锅"], ["轻轨"]]
    assert query.excluded == [query_terms("广告")]


@pytest.mark.parametrize("raw", ['"渝北', "OR 渝北", "渝北 OR", "渝北 OR OR 重庆", "-渝北", "   ", "*** ()",
                                 "渝北 OR -重庆"])
def test_invalid_queries_are_clear_errors(raw: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(raw)
    assert "\n" not in str(info.value)


def test_operators_and_quotes_from_the_user_are_only_text() -> None:
    query = parse_query('重庆" OR "* NEAR(a b) title:渝北 ^x')
    expression = fts5_expression(query)
    # every token is one quoted FTS5 string made of word characters: nothing the user typed is syntax
    for piece in expression.replace("(", " ").replace(")", " ").split():
        assert piece in ("AND", "OR", "NOT") or (piece.startswith('"') and piece.endswith('"') and
                                                 piece[1:-1].isalnum())
    assert "'" not in tsquery_expression(parse_query("it's")).replace("'it'", "").replace("'s'", "")


def test_query_length_is_bounded() -> None:
    with pytest.raises(QuerySyntaxError, match="at most"):
        parse_query(" ".join(f"词{i}" for i in range(100)))


def test_expressions_for_both_backends() -> None:
    query = parse_query("渝北 火锅 OR 轻轨 -广告")
    assert fts5_expression(query) == '((("渝北")) AND (("火锅") OR ("轻轨"))) NOT (("广告"))'
    assert tsquery_expression(query) == "(('渝北')) & (('火锅') | ('轻轨')) & !(('广告'))"
    assert fts5_expression(parse_query("渝北"), "title") == '{title} : ((("渝北")))'


def test_segmenter_is_loaded_once_and_fingerprinted() -> None:
    assert fulltext._tokenizer() is fulltext._tokenizer()
    assert "jieba" in fulltext.segmenter_id() and "t2s" in fulltext.segmenter_id()


def test_a_word_is_found_wherever_its_characters_stand() -> None:
    # precise segmentation reads these as 重庆大学+城 and 重庆+市民: the words inside must still be indexed
    assert set(query_terms("大学城")) <= set(index_terms("重庆大学城迎来新生"))
    assert set(query_terms("重庆市")) <= set(index_terms("重庆市民出行更便捷"))
    assert set(query_terms("重庆大学")) <= set(index_terms("重庆大学城迎来新生"))
    assert index_terms("重庆大学城，大学城").count("大学城") == 1  # already a word of the text: not added again
