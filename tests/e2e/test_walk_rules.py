"""The walk's own judgement, without a browser: what counts as English, as one kind, as too big,
and the Playground config that makes the Playground a given demo person."""

from __future__ import annotations

import re

import pytest

from cards.base import card, execute, heading, text, toggle
from tests.e2e.stack import PLAYGROUND_CONFIG, StackError, _people, config_as
from tests.e2e.walk import (
    MAX_MESSAGE_BYTES,
    Kind,
    Step,
    Target,
    Team,
    action_key,
    actions_of,
    english_words,
    has_way_back,
    look,
    notice_problem,
    places_back,
    product_words,
    shown_text,
    signature,
    step_mark,
    toggles_revealing,
    utf16_size,
    verbs_to_try_back,
)


@pytest.mark.parametrize("wording", [
    "市场投放权益 Go-to-market benefits",
    "已分配 · Gold Core",
    "角色：admin_agent",
    "未完成：请填写 alternate_email。",
    "1 benefit(s)",
    "语言：English",
])
def test_english_ui_words_in_chinese_are_found(wording: str) -> None:
    assert english_words([wording])


@pytest.mark.parametrize("wording", [
    "Visual Studio Enterprise 订阅已分配给 Lee Gu",
    "请在 Microsoft 合作伙伴中心 (Partner Center) 提交：https://partner.microsoft.com/dashboard/support",
    "备用电子邮件 lee.gu@outlook.com",
    "Windows Server 2022 Datacenter 的产品密钥",
    "ISV 共同销售就绪 · Dynamics 365 · Azure 门户",
    "[打开门户](https://portal.azure.com/#blade)",
    "请求已提交：BR-20261129-EEF3A1",
])
def test_brands_people_emails_and_urls_are_not_english_ui(wording: str) -> None:
    assert english_words([wording]) == []


def test_product_names_keep_the_words_their_chinese_name_keeps() -> None:
    inventory = {"packages": [{"name": {"en-US": "Dynamics 365 Sales Enterprise", "zh-CN": "Dynamics 365 Sales 企业版",
                                        "zh-TW": "Dynamics 365 Sales 企業版"},
                               "benefits": [{"name": {"en-US": "Microsoft 365 Apps for enterprise",
                                                      "zh-CN": "Microsoft 365 企业应用版",
                                                      "zh-TW": "Microsoft 365 Apps 企業版"}}]}]}
    zh_cn, zh_tw = product_words("zh-CN", inventory), product_words("zh-TW", inventory)
    assert "sales" in zh_cn and "apps" not in zh_cn and "enterprise" not in zh_cn
    assert "apps" in zh_tw and "for" not in zh_tw
    assert english_words(["Dynamics 365 Sales 企业版"], zh_cn) == []
    assert english_words(["我的 Apps"], zh_cn) == ["Apps"]
    assert english_words(["我的 Apps"], zh_tw) == []
    assert english_words(["Sales 团队"]) == ["Sales"]  # without the demo's names it is a UI word
    assert "sales" in product_words("zh-CN")  # the demo inventory itself


def test_kept_terms_with_an_english_word_inside() -> None:
    assert english_words(["MPN ID：1234567", "Microsoft Entra ID 标识"]) == []
    assert english_words(["用户 ID"]) == ["ID"]


def test_a_card_shows_titles_of_choices_not_their_values() -> None:
    form = card([{"type": "Input.ChoiceSet", "id": "role", "label": "角色", "value": "global_admin",
                  "choices": [{"title": "全局管理员", "value": "global_admin"}]}],
                [execute("保存", "set_roles", {"person_id": "p1"})])
    assert english_words(shown_text(form)) == []
    assert "全局管理员" in shown_text(form)


def test_a_chinese_card_is_the_same_kind_as_its_english_twin_whatever_its_rows() -> None:
    def users(t: dict[str, str], rows: int) -> dict:
        body = [heading(t["title"])]
        for i in range(rows):
            body += [text(f"Person {i}"), {"type": "ActionSet", "actions": [toggle(t["roles"], f"user-edit-{i}")]}]
        return card(body, [execute(t["back"], "help")])

    english = users({"title": "Users", "roles": "Roles", "back": "Menu"}, 3)
    chinese = users({"title": "用户", "roles": "角色", "back": "菜单"}, 5)
    assert signature(english, "users") == signature(chinese, "users")
    assert signature(english, "users") != signature(english, "set_roles")
    assert action_key(toggle("Roles", "user-edit-3")) == action_key(toggle("角色", "user-edit-11"))
    assert action_key(execute("Open", "list_cloud")) != action_key(execute("Open", "list_software"))


def test_two_lists_answering_an_assignment_with_the_same_buttons_are_two_kinds() -> None:
    def listed(area: str, rows: list[str]) -> dict:
        body = [heading("Assigned")] + [{"type": "Container", "id": f"details-{area}-{r}", "items": [text(r)]}
                                        for r in rows]
        return card(body, [execute("Benefits overview", "overview"), execute("Menu", "help")])

    cloud = listed("cloud", ["azure-credit", "dynamics"])
    assert signature(cloud, "assign") != signature(listed("vs", ["enterprise"]), "assign")
    assert signature(cloud, "assign") == signature(listed("cloud", ["azure-credit"]), "assign")


def test_a_list_shown_again_after_a_removal_is_the_same_look_not_clicked_twice() -> None:
    """The Visual Studio list and that list after a seat is removed (a notice on top) are two kinds (two
    verbs bring them) of one look: a step clicked on one counts as clicked on the other; another list's
    look (other id families) does not."""
    def listed(area: str, notice: str = "") -> dict:
        body = ([text(notice)] if notice else []) + [heading("Assigned"),
                                                     {"type": "Container", "id": f"details-{area}-x", "items": []}]
        return card(body, [execute("Benefits overview", "overview"), execute("Menu", "help")])

    plain, after = listed("vs"), listed("vs", "Lee Gu no longer has Visual Studio Enterprise.")
    assert signature(plain, "list_vs") != signature(after, "remove_assignment")
    assert look(plain) == look(after) != look(listed("cloud"))
    kinds = [Kind(signature(c, via), via, frozenset(), [], via, look=look(c))
             for c, via in ((plain, "list_vs"), (after, "remove_assignment"), (listed("cloud"), "list_cloud"))]
    team, overview = Team(), Step((), Target("Execute:overview"))
    team.mark_clicked(kinds[0], overview)
    assert team.clicked_on_look(kinds[1], overview)
    assert not team.clicked_on_look(kinds[1], Step((), Target("Execute:overview"), filled=True))
    assert not team.clicked_on_look(kinds[2], overview)


def test_the_toggle_that_shows_a_hidden_button_is_known() -> None:
    shown = card([{"type": "Container", "id": "details-vs-enterprise", "isVisible": False, "items": [
        {"type": "ActionSet", "actions": [execute("Remove Lee Gu", "remove_assignment", {"id": "a1"})]}]},
        {"type": "ActionSet", "actions": [toggle("Details", "details-vs-enterprise"),
                                          toggle("Details", "details-vs-professional")]}])
    assert toggles_revealing(shown, "Execute:remove_assignment") == {"Toggle:details-vs-enterprise"}
    assert toggles_revealing(shown, "Execute:help") == set()


def test_a_cards_refresh_is_not_a_button() -> None:
    """Teams sends a card's ``refresh`` action itself: the walk must not look for it on the page."""
    shown = card([heading("Benefit request")], [execute("My benefits", "my_benefits")])
    shown["refresh"] = {"action": {"type": "Action.Execute", "verb": "request_card", "data": {"request_id": "r1"}},
                        "userIds": ["29:1"]}
    assert [action_key(a) for a in actions_of(shown)] == ["Execute:my_benefits"]


def test_walkers_of_a_team_take_each_step_once() -> None:
    team, step = Team(), Step((), Target("Execute:overview"))
    mark = step_mark("menu", step)
    assert team.take(mark)
    assert not team.take(mark)
    assert team.take(step_mark("menu", Step((), Target("Execute:overview"), filled=True)))
    assert team.take(step_mark("menu", Step((Target("Toggle:details"),), Target("Execute:overview"))))


def test_message_size_counts_utf16_units() -> None:
    assert utf16_size("ab") == 4
    assert utf16_size("权益") == 4
    assert utf16_size("😀") == 4  # one astral character is two UTF-16 units
    big = card([text("权" * (MAX_MESSAGE_BYTES // 2))])
    assert utf16_size(big) > MAX_MESSAGE_BYTES


@pytest.mark.parametrize("email", ["leeg@contoso.com", "meganb@contoso.com", "isaiahl@contoso.com",
                                   "alexw@contoso.com"])
def test_the_playground_config_as_a_person(email: str) -> None:
    config = config_as(email)
    people = _people(config)
    current, users = people[0], people[1:]
    assert current["email"] == email
    assert len(users) == 5, "the Playground's schema wants exactly five users"
    assert email not in {u["email"] for u in users}
    everyone = {p["email"] for p in _people(PLAYGROUND_CONFIG.read_text())}
    assert {p["email"] for p in people} == everyone
    assert all(set(p) == set(current) for p in users)
    # what is not about people is kept as it is
    for key in ("version", "tenantId", "personalChat", "groupChat", "team"):
        assert re.search(rf"^{key}:", config, re.M)


def test_the_config_refuses_a_stranger() -> None:
    with pytest.raises(StackError):
        config_as("nobody@contoso.com")


def _kind(name: str, via: str, face: str, parent: str | None = None, *, answered: bool = False,
          request: str = "{}") -> Kind:
    route = [Step((), Target(f"execute:{via}"), filled=answered)] if via != "help" else []
    return Kind(name, name, frozenset(), route, via, ("/invoke", request), parent, face)


def test_the_way_back_is_any_verb_seen_to_show_that_card() -> None:
    menu = _kind("menu", "help", "help users")
    users = _kind("users", "users", "help users", "menu")
    saved = _kind("users-saved", "set_roles", "help users", "users", answered=True)
    kinds = {k.signature: k for k in (menu, users, saved)}
    openers = {"help users": {"users", "set_roles"}}
    # the Users card re-shown by its own form is where "Recent changes" was opened: back to Users
    assert places_back(saved, kinds) == [users]
    assert has_way_back({"help", "users"}, users, openers)
    assert has_way_back({"help", "set_roles"}, users, openers)
    assert not has_way_back({"help"}, users, openers)
    assert not has_way_back({"help", "cancel_start"}, users, openers)


def test_after_a_confirmation_the_way_back_is_to_where_the_flow_started() -> None:
    menu = _kind("menu", "help", "help")
    cancels = _kind("cancels", "cancel_start", "cancel_start help", "menu")
    confirm = _kind("confirm", "cancel_package", "cancel_start confirm_cancel", "cancels")
    kinds = {k.signature: k for k in (menu, cancels, confirm)}
    openers = {"cancel_start help": {"cancel_start"}, "cancel_start confirm_cancel": {"cancel_package"}}
    # an opened card goes back to the card it came from
    assert places_back(confirm, kinds) == [confirm]
    # the answer to the confirmation may lead back to the confirmation or to the list it started from
    back = places_back(confirm, kinds, answered=True)
    assert back == [confirm, cancels]
    assert any(has_way_back({"help", "cancel_start", "requests"}, p, openers) for p in back)
    assert not any(has_way_back({"help", "requests"}, p, openers) for p in back)
    # a card reached from a submitted request (a nonce) goes back past it; from the menu, nothing more
    done = _kind("done", "close_request", "help requests", "cancels", request='{"nonce": "n1"}')
    assert places_back(done, {**kinds, "done": done}) == [cancels]
    said_yes = _kind("said-yes", "cancel_package", "help requests", "confirm",
                     request='{"value": {"action": {"data": {"package_id": "p1", "confirm": "yes"}}}}')
    assert not said_yes.place and confirm.place
    assert places_back(menu, kinds) == []


def test_after_a_sent_form_any_place_since_the_menu_is_a_way_back() -> None:
    menu = _kind("menu", "help", "help")
    details = _kind("details", "show_benefit", "help request_assistance", "menu")
    form = _kind("form", "request_assistance", "help request_assistance_submit", "details")
    prepared = _kind("prepared", "request_assistance_submit", "help record_number", "form",
                     request='{"nonce": "n2"}')
    kinds = {k.signature: k for k in (menu, details, form, prepared)}
    openers = {"help request_assistance": {"show_benefit"}, "help request_assistance_submit": {"request_assistance"}}
    # recent changes opened from the prepared request: the form it answered, or the benefit it is about
    back = places_back(prepared, kinds)
    assert back == [form, details]
    assert any(has_way_back({"help", "show_benefit"}, p, openers) for p in back)
    assert not any(has_way_back({"help", "users"}, p, openers) for p in back)
    # a form opened from the menu and sent: the menu is where its flow started
    asked = _kind("asked", "request_benefit", "help submit_benefit_request", "menu")
    submitted = _kind("submitted", "submit_benefit_request", "help my_benefits", "asked", request='{"nonce": "n3"}')
    kinds = {k.signature: k for k in (menu, asked, submitted)}
    assert places_back(asked, kinds, answered=True) == [asked, menu]
    assert any(has_way_back({"help", "my_benefits"}, p, {}) for p in places_back(asked, kinds, answered=True))


def test_a_back_seen_only_opening_other_places_is_clicked_before_a_card_is_judged_without_a_way_back() -> None:
    # recent changes of a benefit, reached from the request its form prepared: Back opens that request
    verbs = {"help", "service_request", "recent_changes"}
    openers = {"help list_technical": {"list_technical"},
               "id:request": {"request_assistance_submit", "service_request"}, "id:changes": {"recent_changes"}}
    place_openers = {"help list_technical": {"list_technical"}, "id:cancellation": {"service_request"}}
    assert verbs_to_try_back(verbs, openers, place_openers) == ["service_request"]
    # never seen to open anything: first; seen only as the answer to a form: not clicked (it may write)
    assert verbs_to_try_back(verbs | {"show_benefit"}, openers, {}) == ["show_benefit"]
    assert verbs_to_try_back({"help", "close_request"}, {"x": {"close_request"}}, place_openers) == []


def test_a_notice_leads_to_the_menu_or_the_benefits_it_is_about() -> None:
    assert notice_problem(card([text("Azure 每月额度已分配给你")], [execute("我的权益", "my_benefits")])) == ""
    assert notice_problem(card([text("新请求")], [execute("请求", "requests")])) == ""
    assert notice_problem(card([text("已激活")], [execute("刷新", "activate")]))


def test_what_the_walk_typed_is_not_the_bots_english() -> None:
    from tests.e2e.walk import TYPED_NOTE, english_words

    assert english_words([f"主题：{TYPED_NOTE}"]) == []
    assert english_words(["主题：please advise"]) == ["please", "advise"]


def test_a_patterned_text_input_gets_what_its_pattern_accepts() -> None:
    from domain.rules import REQUEST_NUMBER_PATTERN
    from tests.e2e.walk import TYPED_NAME, plausible_text, text_patterns

    form = card([{"type": "Input.Text", "id": "partner_center_number", "label": "Number Partner Center gave you",
                  "placeholder": "Letters, digits or dashes", "regex": REQUEST_NUMBER_PATTERN}], [])
    patterns = text_patterns(form)
    assert set(patterns) == {"Number Partner Center gave you", "Letters, digits or dashes"}
    number = plausible_text(patterns["Letters, digits or dashes"])
    assert re.search(REQUEST_NUMBER_PATTERN, number) and not re.search(REQUEST_NUMBER_PATTERN, TYPED_NAME)
    assert plausible_text("") == TYPED_NAME
