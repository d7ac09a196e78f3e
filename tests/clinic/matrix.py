from __future__ import annotations

from tests.matrix import ALL_STAFF_VIEWERS, FORBIDDEN, OK, REDIRECT, Row, everyone, only

ROWS: dict[str, Row] = {
    "home": Row("get", lambda w: "/", everyone(REDIRECT, outsider=FORBIDDEN)),
    "login": Row("get", lambda w: "/sign-in/", everyone(REDIRECT, anonymous=OK)),
    "logout": Row("post", lambda w: "/sign-out/", everyone(REDIRECT, anonymous=REDIRECT)),
    "healthz": Row("get", lambda w: "/healthz", everyone(OK, anonymous=OK)),
    "clinic:front_desk_home": Row("get", lambda w: "/front-desk/", only("front_desk")),
    "clinic:patient_list": Row("get", lambda w: "/patients/", only(*ALL_STAFF_VIEWERS)),
    "clinic:patient_detail": Row("get", lambda w: f"/patients/{w['patient'].pk}/", only(*ALL_STAFF_VIEWERS)),
    "clinic:manager_home": Row("get", lambda w: "/clinic/", only("manager")),
    "clinic:staff_create": Row("get", lambda w: "/clinic/staff/new/", only("manager")),
    "clinic:staff_edit": Row("get", lambda w: f"/clinic/staff/{w['staff'].pk}/", only("manager")),
    "clinic:switch_location": Row(
        "post",
        lambda w: "/location/",
        everyone(REDIRECT),
        data=lambda w: {"location": str(w["location"].pk), "next": "/"},
    ),
}
