"""Survey answers: recorded once per call and question, stored with their links, SMS survey and replies."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from callcenter.bootstrap import Container
from callcenter.kpi.history import KpiQuery, SqlKpi
from callcenter.storage.models import Call, SurveyResponse
from callcenter.surveys import SMS_PENDING_SECONDS, InvalidSurveyAnswerError, SurveyService, parse_reply
from tests.support.events import answered_call

T0 = 1_800_000_000.0
CALLER = "+36301234567"


class FakeMessaging:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send_sms(self, to: str, body: str) -> str:
        self.sent.append((to, body))
        return f"SM{len(self.sent)}"


@pytest.fixture
def answered(container: Container) -> Container:
    container.journal.append_many(answered_call("c1", T0, queue="general", operator="anna"))
    container.journal_writer.drain_all()
    return container


def service(container: Container, messaging: FakeMessaging | None = None, **survey: object) -> SurveyService:
    hotline = container.hotline
    if survey:
        hotline = hotline.model_copy(update={"survey": hotline.survey.model_copy(update=survey)})
    c = container
    return SurveyService(c.sessions, c.redis.live, c.keys, c.journal, hotline, lambda: T0 + 300, messaging)


def responses(container: Container) -> list[tuple[str, str, int, str, str, str]]:
    with container.sessions() as session:
        rows = session.scalars(select(SurveyResponse).order_by(SurveyResponse.question_id)).all()
        return [(r.call_id, r.question_id, r.answer, r.via, r.operator, r.queue) for r in rows]


def test_an_answer_is_stored_once_with_its_call_operator_and_queue(answered: Container) -> None:
    surveys = service(answered)
    assert surveys.record_answer("c1", "satisfaction", 4, "dtmf") is True
    assert surveys.record_answer("c1", "satisfaction", 1, "sms") is False
    answered.journal_writer.drain_all()
    assert responses(answered) == [("c1", "satisfaction", 4, "dtmf", "anna", "general")]
    with answered.sessions() as session:
        assert session.get(Call, "c1").survey_score == 4  # type: ignore[union-attr]


def test_the_same_answer_journalled_twice_is_one_row_and_counts_once_in_csat(answered: Container) -> None:
    surveys = service(answered)
    surveys.record_answer("c1", "satisfaction", 5, "dtmf")
    answered.redis.live.delete(answered.keys.survey_answer("c1", "satisfaction"))  # the flag expired
    surveys.record_answer("c1", "satisfaction", 2, "sms")
    answered.journal_writer.drain_all()
    assert [r[2] for r in responses(answered)] == [5]
    start = dt.datetime.fromtimestamp(T0 - 60, dt.UTC)
    rows = SqlKpi(answered.engine, answered.hotline.kpi).table(KpiQuery(start, start + dt.timedelta(hours=1), None), T0)
    assert (rows[0].csat.responses, rows[0].csat.satisfied, rows[0].csat.answered) == (1, 1, 1)


def test_answers_that_do_not_fit_the_question_are_refused(answered: Container) -> None:
    surveys = service(answered)
    with pytest.raises(InvalidSurveyAnswerError):
        surveys.record_answer("c1", "satisfaction", 6, "dtmf")
    with pytest.raises(InvalidSurveyAnswerError):
        surveys.record_answer("c1", "no-such-question", 1, "dtmf")


def test_sampling_and_queue_selection_decide_who_is_asked(answered: Container) -> None:
    assert service(answered).wanted("c1", "general")
    assert not service(answered, sampling_rate=0.0).wanted("c1", "general")
    assert not service(answered, queues=("technical",)).wanted("c1", "general")
    share = sum(service(answered, sampling_rate=0.3).wanted(f"c{i}", "general") for i in range(2000)) / 2000
    assert 0.25 < share < 0.35


def test_sms_survey_asks_each_question_and_thanks_once_answered(answered: Container) -> None:
    sms = FakeMessaging()
    surveys = service(answered, sms)
    assert surveys.sms_survey_job("c1") is True
    assert surveys.sms_survey_job("c1") is False  # one survey per call
    assert len(sms.sent) == 1 and sms.sent[0][0] == CALLER and "1" in sms.sent[0][1]
    assert "1" in surveys.handle_sms_reply(CALLER, "nagyon jó volt", T0 + 400)  # garbage: the hint again
    second = surveys.handle_sms_reply(CALLER, " 4 ", T0 + 400)
    assert second.startswith(answered.hotline.survey.questions[1].prompt["hu"][:20])
    assert surveys.handle_sms_reply(CALLER, "Igen!", T0 + 500) == answered.hotline.survey.thanks["hu"]
    answered.journal_writer.drain_all()
    assert [(r[1], r[2], r[3]) for r in responses(answered)] == [("satisfaction", 4, "sms"), ("solved", 1, "sms")]
    assert "nincs nyitott" in surveys.handle_sms_reply(CALLER, "5", T0 + 600)  # nothing pending any more


def test_late_and_unsolicited_sms_replies_get_a_polite_answer_and_change_nothing(answered: Container) -> None:
    surveys = service(answered, FakeMessaging())
    assert "nincs nyitott" in surveys.handle_sms_reply("+3699999", "5", T0)
    surveys.sms_survey_job("c1")
    assert "lezárult" in surveys.handle_sms_reply(CALLER, "5", T0 + 300 + SMS_PENDING_SECONDS + 1)
    answered.journal_writer.drain_all()
    assert responses(answered) == []


def test_repeated_garbage_ends_the_sms_survey(answered: Container) -> None:
    surveys = service(answered, FakeMessaging())
    surveys.sms_survey_job("c1")
    surveys.handle_sms_reply(CALLER, "hello?", T0 + 310)
    assert "nincs nyitott" in surveys.handle_sms_reply(CALLER, "who is this", T0 + 320)
    assert "nincs nyitott" in surveys.handle_sms_reply(CALLER, "3", T0 + 330)


def test_no_sms_survey_without_messaging_or_when_the_survey_is_off(answered: Container) -> None:
    assert service(answered, None).sms_survey_job("c1") is False
    assert service(answered, FakeMessaging(), sms_when_caller_hung_up=False).sms_survey_job("c1") is False
    assert service(answered, FakeMessaging(), enabled=False).sms_survey_job("c1") is False
    assert service(answered, FakeMessaging()).sms_survey_job("no-such-call") is False


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("scale_1_5", "5", 5),
        ("scale_1_5", "my answer: 3", 3),
        ("scale_1_5", "45", None),
        ("scale_1_5", "0", None),
        ("yes_no", "1", 1),
        ("yes_no", "nem", 0),
        ("yes_no", "No.", 0),
        ("yes_no", "maybe", None),
        ("yes_no", "", None),
    ],
)
def test_sms_replies_are_parsed_leniently_but_never_guessed(kind: str, text: str, value: int | None) -> None:
    assert parse_reply(kind, text) == value
