from __future__ import annotations

from tests.matrix import ALL_STAFF_VIEWERS, FORBIDDEN, OK, REDIRECT, Row, everyone, only

NO_CONTENT = 204

ROWS: dict[str, Row] = {
    "home": Row("get", lambda w: "/", everyone(REDIRECT, outsider=FORBIDDEN)),
    "login": Row("get", lambda w: "/sign-in/", everyone(REDIRECT, anonymous=OK)),
    "logout": Row("post", lambda w: "/sign-out/", everyone(REDIRECT, anonymous=REDIRECT)),
    "healthz": Row("get", lambda w: "/healthz", everyone(OK, anonymous=OK)),
    # The manager reads the schedule (day, week, day sheet); only the desk acts on it.
    "clinic:front_desk_home": Row("get", lambda w: "/front-desk/", only("front_desk", "manager")),
    "clinic:patient_list": Row("get", lambda w: "/patients/", only(*ALL_STAFF_VIEWERS)),
    "clinic:patient_detail": Row("get", lambda w: f"/patients/{w['patient'].pk}/", only(*ALL_STAFF_VIEWERS)),
    "clinic:patient_create": Row("get", lambda w: "/patients/new/", only("front_desk")),
    "clinic:patient_edit": Row("get", lambda w: f"/patients/{w['patient'].pk}/edit/", only("front_desk")),
    "clinic:schedule_week": Row("get", lambda w: "/front-desk/week/", only("front_desk", "manager")),
    "clinic:schedule_print": Row("get", lambda w: "/front-desk/day-sheet/", only("front_desk", "manager")),
    "clinic:slot_book": Row(
        "get",
        lambda w: (
            f"/front-desk/book/?date={w['appointment'].start.date().isoformat()}&time=10:00"
            f"&room={w['appointment'].room_id}&q=a"
        ),
        only("front_desk"),
    ),
    "clinic:appointment_new": Row("get", lambda w: f"/patients/{w['patient'].pk}/book/", only("front_desk")),
    "clinic:appointment_detail": Row(
        "get", lambda w: f"/appointments/{w['appointment'].pk}/", only(*ALL_STAFF_VIEWERS)
    ),
    "clinic:appointment_reschedule": Row(
        "get", lambda w: f"/appointments/{w['appointment'].pk}/move/", only("front_desk")
    ),
    "clinic:appointment_status": Row(
        "post",
        lambda w: f"/appointments/{w['appointment'].pk}/status/",
        only("front_desk", status=REDIRECT),
        data=lambda w: {"status": "confirmed"},
    ),
    "clinic:appointment_drop": Row(
        "post",
        lambda w: f"/appointments/{w['appointment'].pk}/drop/",
        only("front_desk", status=REDIRECT),
    ),
    "clinic:appointment_cancel": Row(
        "post",
        lambda w: f"/appointments/{w['appointment'].pk}/cancel/",
        only("front_desk", status=REDIRECT),
        data=lambda w: {"reason": "Patient asked"},
    ),
    # Nothing to revert in the matrix's world: the desk and the manager are sent back with a message.
    "clinic:appointment_revert": Row(
        "post",
        lambda w: f"/appointments/{w['appointment'].pk}/revert/",
        only("front_desk", "manager", status=REDIRECT),
        data=lambda w: {"reason": "Set by mistake"},
    ),
    "clinic:manager_home": Row("get", lambda w: "/clinic/", only("manager")),
    "clinic:audit": Row("get", lambda w: "/clinic/audit/", only("manager")),
    "clinic:staff_create": Row("get", lambda w: "/clinic/staff/new/", only("manager")),
    "clinic:staff_edit": Row("get", lambda w: f"/clinic/staff/{w['staff'].pk}/", only("manager")),
    "clinic:working_hours_week": Row(
        "get", lambda w: f"/clinic/setup/working-hours/staff/{w['appointment'].practitioner_id}/", only("manager")
    ),
    "clinic:setup_list": Row("get", lambda w: "/clinic/setup/rooms/", only("manager")),
    "clinic:setup_create": Row("get", lambda w: "/clinic/setup/working-hours/new/", only("manager")),
    "clinic:setup_edit": Row("get", lambda w: f"/clinic/setup/rooms/{w['appointment'].room_id}/", only("manager")),
    "clinic:setup_delete": Row(
        "post", lambda w: f"/clinic/setup/time-off/{w['time_off'].pk}/delete/", only("manager", status=REDIRECT)
    ),
    "clinic:role_grants": Row("get", lambda w: "/clinic/role-grants/", only("specialist")),
    "clinic:role_grant_decide": Row(
        "post",
        lambda w: f"/clinic/role-grants/{w['role_grant'].pk}/",
        only("specialist", status=REDIRECT),
        data=lambda w: {"decision": "approve"},
    ),
    "clinic:switch_location": Row(
        "post",
        lambda w: "/location/",
        everyone(REDIRECT),
        data=lambda w: {"location": str(w["location"].pk), "next": "/"},
    ),
    # Accounts (clinic/accounts): a signed-in persona here has passed the second factor.
    "accounts:verify": Row("get", lambda w: "/sign-in/verify/", everyone(REDIRECT)),
    "accounts:enrol": Row("get", lambda w: "/account/second-factor/", everyone(REDIRECT)),
    "accounts:account": Row("get", lambda w: "/account/", everyone(OK)),
    "accounts:password_change": Row("get", lambda w: "/account/password/", everyone(OK)),
    "accounts:recovery_codes_renew": Row("post", lambda w: "/account/recovery-codes/", everyone(OK)),
    "accounts:sessions_end_others": Row("post", lambda w: "/account/other-sessions/", everyone(REDIRECT)),
    "accounts:keep_alive": Row("post", lambda w: "/account/keep-alive/", everyone(NO_CONTENT)),
    "accounts:password_reset": Row("get", lambda w: "/password-reset/", everyone(OK, anonymous=OK)),
    "accounts:password_reset_done": Row("get", lambda w: "/password-reset/sent/", everyone(OK, anonymous=OK)),
    "accounts:password_reset_confirm": Row(
        "get", lambda w: "/password-reset/MQ/not-a-token/", everyone(OK, anonymous=OK)
    ),
    "accounts:password_reset_complete": Row("get", lambda w: "/password-reset/done/", everyone(OK, anonymous=OK)),
    "accounts:staff_security": Row("get", lambda w: f"/clinic/staff/{w['staff'].pk}/security/", only("manager")),
    "accounts:security_events": Row("get", lambda w: "/clinic/security-events/", only("manager")),
}
