from __future__ import annotations

from tests.matrix import ALL_STAFF_VIEWERS, OK, REDIRECT, Row, everyone, only

ROWS: dict[str, Row] = {
    "consultations:home": Row("get", lambda w: "/consultations/", only("specialist")),
    "consultations:consultation_start": Row(
        "post",
        lambda w: f"/consultations/start/{w['consultation'].appointment_id}/",
        only("specialist", status=REDIRECT),
    ),
    "consultations:consultation_detail": Row(
        "get", lambda w: f"/consultations/{w['consultation'].pk}/", only("specialist")
    ),
    "consultations:consultation_edit": Row(
        "get", lambda w: f"/consultations/{w['consultation'].pk}/edit/", only("specialist")
    ),
    # The service then refuses anyone but the owner or a manager; the page says why.
    "consultations:consultation_hand_over": Row(
        "post",
        lambda w: f"/consultations/{w['consultation'].pk}/hand-over/",
        only("specialist", "manager", status=REDIRECT),
        data=lambda w: {"reason": "Off sick"},
    ),
    "consultations:consultation_preview": Row(
        "post", lambda w: f"/consultations/{w['consultation'].pk}/preview/", only("specialist")
    ),
    "consultations:consultation_addendum": Row(
        "post",
        lambda w: f"/consultations/{w['plan'].consultation_id}/addenda/",
        only("specialist", status=REDIRECT),
        data=lambda w: {"text": "An addendum"},
    ),
    "consultations:plan_create": Row(
        "get", lambda w: f"/consultations/{w['recommended'].pk}/plan/", only("specialist")
    ),
    "consultations:plan_detail": Row(
        "get", lambda w: f"/consultations/plans/{w['plan'].pk}/", only(*ALL_STAFF_VIEWERS)
    ),
    "consultations:plan_consent": Row(
        "post",
        lambda w: f"/consultations/plans/{w['plan'].pk}/consent/",
        only("specialist", status=REDIRECT),
        data=lambda w: {"consent_name": "A Patient"},
    ),
    "consultations:plans_to_book": Row("get", lambda w: "/consultations/plans/to-book/", only("front_desk")),
    "consultations:plan_book_session": Row(
        "get", lambda w: f"/consultations/plans/{w['plan'].pk}/book/", only("front_desk")
    ),
    "consultations:questionnaire_link": Row(
        "get",
        lambda w: f"/consultations/appointments/{w['consultation'].appointment_id}/questionnaire-link/",
        only("front_desk", "specialist"),
    ),
    "consultations:questionnaire_link_send": Row(
        "post",
        lambda w: f"/consultations/appointments/{w['consultation'].appointment_id}/questionnaire-link/send/",
        only("front_desk", "specialist", status=REDIRECT),
    ),
    "consultations:questionnaire": Row(
        "get", lambda w: f"/consultations/questionnaire/{w['questionnaire_token']}/", everyone(OK, anonymous=OK)
    ),
}
