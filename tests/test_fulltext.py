"""Folding, n-grams and the query language, from strings: what the index and the queries are made of."""
from __future__ import annotations

import pytest

from cqnews.db.fulltext import (
    MAX_PIECE_CHARS,
    PIECE_TOKENS,
    QuerySyntaxError,
    fold,
    fts5_expression,
    is_exact,
    ngrams,
    parse_query,
    piece_tokens,
    searchable,
    segmenter_id,
    tsquery_expression,
)


def test_fold_traditional_full_width_and_case() -> None:
    assert fold("經濟發展 重慶市") == "经济发展 重庆市"
    assert fold("ＣＯＶＩＤ－１９ 双城") == "covid-19 双城"
    assert searchable("  重慶\n\n軌道　交通 ") == "重庆 轨道 交通"  # every run of white space: one space


def test_every_piece_of_a_text_has_its_tokens_in_the_text() -> None:
    text = searchable("渝北区GDP增长1.5%，《决定》指出：成渝地區雙城經濟圈")
    grams = set(ngrams(text))
    for start in range(len(text)):
        for end in range(start + 1, min(len(text), start + 7) + 1):
            assert set(piece_tokens(text[start:end])) <= grams, text[start:end]


def test_one_and_two_character_pieces_are_answered_by_the_index_alone() -> None:
    assert is_exact("渝") and is_exact("渝北") and is_exact("5%"[:1]) and is_exact("g1")
    assert not is_exact("渝北区")  # longer: its bigrams are checked against the text
    assert not is_exact("5%") and not is_exact("a b")  # ASCII punctuation and spaces are mapped tokens: checked
    assert piece_tokens("渝") == ["渝"] and piece_tokens("渝北区") == ["渝北", "北区"]


def test_a_long_piece_is_prefiltered_by_a_few_of_its_bigrams() -> None:
    piece = "成渝地区双城经济圈建设加快推进经济总量再上台阶"
    tokens = piece_tokens(piece)
    assert len(tokens) <= PIECE_TOKENS and tokens[0] == "成渝" and tokens[-1] == "台阶"


def test_the_query_language() -> None:
    query = parse_query('渝北 "沙坪坝 大学城" 火锅 OR 轻轨 -广告 NOT 招聘 AND 《决定》 經濟')
    assert query.groups == [["渝北"], ["沙坪坝 大学城"], ["火锅", "轻轨"], ["《决定》"], ["经济"]]
    assert query.excluded == ["广告", "招聘"]
    assert parse_query("重庆 AND 渝北").groups == parse_query("重庆 渝北").groups  # AND typed is the operator
    assert parse_query('-"a b" c').excluded == ["a b"]
    assert parse_query("or and not").groups == [["or"], ["and"], ["not"]]  # lower case: words to find


@pytest.mark.parametrize("raw", ['"渝北', "OR 渝北", "渝北 OR", "渝北 OR OR 重庆", "-渝北", "   ", "渝北 OR -重庆",
                                 "AND 渝北", "渝北 AND", "渝北 NOT", "NOT NOT 渝北", '渝北 ""', "渝北 -重庆 OR 成都",
                                 "x" * (MAX_PIECE_CHARS + 1)])
def test_invalid_queries_are_one_line_errors(raw: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(raw)
    assert "\n" not in str(info.value)


def test_a_5000_character_word_is_refused_in_one_line() -> None:
    with pytest.raises(QuerySyntaxError, match="at most") as info:
        parse_query("渝" * 5000)
    assert "\n" not in str(info.value) and len(str(info.value)) < 200


def test_operators_and_quotes_from_the_user_are_only_text() -> None:
    query = parse_query('重庆" OR "* NEAR(a b) title:渝北 ^x')
    expression = fts5_expression(query)
    # every token is one quoted FTS5 string holding no quote, no space, no ASCII punctuation: nothing is syntax
    for piece in expression.replace("(", " ").replace(")", " ").split():
        assert piece in ("AND", "OR", "NOT") or (piece.startswith('"') and piece.endswith('"') and
                                                 all(c.isalnum() or c > "\x7f" for c in piece[1:-1]))
    for token in tsquery_expression(parse_query("it's \\x")).replace("(", " ").replace(")", " ").split():
        assert token in ("&", "|") or (token[0] == token[-1] == "'" and "'" not in token[1:-1])


def test_query_length_is_bounded() -> None:
    with pytest.raises(QuerySyntaxError, match="at most"):
        parse_query(" ".join(f"词{i}" for i in range(100)))


def test_the_index_fingerprint_names_the_tokens() -> None:
    assert "ngram" in segmenter_id() and "t2s" in segmenter_id()
