from __future__ import annotations

from cqnews.fingerprints import MAX_DISTANCE, bands, distance, from_signed, simhash, to_signed

STORY = (
    "新华社重庆5月9日电 重庆主城都市区工作座谈会9日召开，研究推进主城都市区发展问题。会议指出，推进主城都市区发展，"
    "是推动新时代重庆高质量发展的重要部署，对于加快推动“一区两群”协调发展和成渝地区双城经济圈建设、更好融入和服务"
    "全国发展大局具有十分重大的意义。会议要求，要强化中心城区带动作用，提升主城新区综合承载能力，推动产业协同发展，"
    "加快交通基础设施互联互通，促进公共服务共建共享，构建生态环境保护新格局。"
)
# As another outlet reposts it (its 来源/责编 lines are removed by extraction): the dateline dropped.
REPOST = STORY.replace("新华社重庆5月9日电 ", "")
OTHER = (
    "万州区太龙镇的古红桔园里，一棵棵百年老树枝繁叶茂，树干上挂着的二维码标牌格外显眼。用手机一扫，树龄、管护人、"
    "施肥记录和历年产量等信息一目了然。果农谭大姐告诉记者，去年她家的12棵古树通过认养增收8000多元。"
)


def test_a_repost_without_the_dateline_is_near() -> None:
    assert distance(simhash(STORY), simhash(REPOST)) <= MAX_DISTANCE
    assert distance(simhash(STORY), simhash(STORY + "\n")) == 0  # spacing does not count


def test_different_stories_are_far_apart() -> None:
    assert distance(simhash(STORY), simhash(OTHER)) > 16


def test_near_fingerprints_share_a_band() -> None:
    a = simhash(STORY)
    for flipped in ((1 << 3) | (1 << 20) | (1 << 40),):
        assert set(bands(a)) & set(bands(a ^ flipped))


def test_signed_storage_round_trips() -> None:
    for value in (0, 1, (1 << 63) - 1, 1 << 63, (1 << 64) - 1):
        assert from_signed(to_signed(value)) == value
        assert -(1 << 63) <= to_signed(value) < 1 << 63
