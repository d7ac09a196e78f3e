"""The benchmark data generator: patients, staff, rooms and appointments, in minutes.

Everything is made by PostgreSQL itself (generate_series) into a database of its own
(``clinic_bench_<label>``), migrated like production. Triggers are off while loading
(``session_replication_role = replica``): the audit trail of a generated row is noise.
Every appointment sits on an hourly grid with practitioner ``i`` in room ``i``, so the
exclusion constraints hold by construction (and still check every row).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DATA_VERSION = "booking-3"  # bump when the generated shape changes
DAYS_BACK, DAYS_AHEAD = 365, 365  # two years of appointments around today
SLOTS_PER_DAY = 12  # 08:00-20:00, one hour each
LOCATIONS = ("Bench North", "Bench Central", "Bench South")
BENCH_PASSWORD = "bench-password-2026"  # noqa: S105  (a throwaway local database)
ZONE = "Europe/London"
BENCH_PHONE = "+44 20 7946 0000"  # every active location needs one (clinic.E004)

FIRST_NAMES = [
    "Anna",
    "Ben",
    "Chloe",
    "Daniel",
    "Eva",
    "Farah",
    "George",
    "Hana",
    "Isaac",
    "Julia",
    "Karim",
    "Lena",
    "Marco",
    "Nora",
    "Omar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sam",
    "Tara",
    "Umar",
    "Vera",
    "Will",
    "Xena",
    "Yusuf",
    "Zoe",
    "Adam",
    "Bella",
    "Carl",
    "Dana",
    "Emil",
    "Fiona",
    "Gabe",
    "Holly",
    "Ivan",
    "Jade",
    "Kofi",
    "Lily",
    "Max",
    "Nia",
    "Oscar",
    "Paula",
    "Ravi",
    "Sofia",
    "Theo",
    "Una",
    "Victor",
    "Wendy",
    "Yara",
    "Zack",
    "Amir",
    "Bea",
    "Cora",
    "Dev",
    "Elif",
    "Finn",
    "Gia",
    "Hugo",
    "Iris",
    "Jon",
    "Kai",
    "Luca",
    "Mia",
    "Nico",
    "Olga",
    "Pia",
    "Rui",
    "Sara",
    "Tom",
    "Ugo",
    "Vik",
    "Wren",
    "Yuki",
    "Zara",
    "Aled",
    "Bram",
    "Cleo",
    "Dara",
    "Esme",
    "Fred",
    "Gwen",
    "Hal",
    "Ines",
]
LAST_NAMES = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Patel",
    "Khan",
    "Lewis",
    "James",
    "Phillips",
    "Mason",
    "Mitchell",
    "Rose",
    "Davis",
    "Rodriguez",
    "Cox",
    "Alexander",
    "Morgan",
    "Moore",
    "Martin",
    "Price",
    "Scott",
    "Young",
    "Hughes",
    "Edwards",
    "Hill",
    "Moss",
    "Turner",
    "Baker",
    "Harris",
    "King",
    "Lee",
    "Ward",
    "Nguyen",
    "Okafor",
    "Rossi",
    "Haddad",
    "Martinez",
    "Garcia",
    "Silva",
    "Costa",
    "Novak",
    "Kowalski",
    "Murphy",
    "Kelly",
    "Byrne",
    "Ryan",
    "Walsh",
    "Quinn",
    "Ahmed",
    "Ali",
    "Begum",
    "Chowdhury",
    "Singh",
    "Kaur",
    "Shah",
    "Das",
    "Rahman",
    "Hussain",
    "Iqbal",
    "Malik",
    "Sharma",
    "Gupta",
    "Reddy",
    "Rao",
    "Nair",
    "Menon",
    "Olsen",
    "Berg",
    "Lind",
    "Dahl",
    "Holm",
    "Fischer",
    "Weber",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Neumann",
]


@dataclass(frozen=True)
class Scale:
    label: str
    patients: int
    practitioners_per_location: int

    @property
    def appointments(self) -> int:
        return len(LOCATIONS) * self.practitioners_per_location * (DAYS_BACK + DAYS_AHEAD) * SLOTS_PER_DAY

    @property
    def database(self) -> str:
        # BENCH_DATABASE_PREFIX keeps parallel checkouts on one server from dropping each other's data.
        return f"{os.environ.get('BENCH_DATABASE_PREFIX', 'clinic_bench')}_{self.label}"


# 1x and 10x: 10x is the 2,000,000 appointments (and 1,000,000 patients for search).
SMALL = Scale("1x", patients=100_000, practitioners_per_location=8)
LARGE = Scale("10x", patients=1_000_000, practitioners_per_location=76)
# Patients who have appointments: the first 200,000 (the appointment data set).
PATIENTS_WITH_APPOINTMENTS = 200_000


def database_url(name: str) -> str:
    base = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic"))
    return urlunsplit(base._replace(path=f"/{name}"))


def _admin_connection() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(database_url("postgres"), autocommit=True)


def _current_version(name: str) -> str | None:
    with _admin_connection() as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return None
    try:
        with psycopg.connect(database_url(name)) as conn:
            row = conn.execute("SELECT version FROM bench_meta").fetchone()
            return str(row[0]) if row else None
    except psycopg.Error:
        return None


def manage(name: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url(name), "DJANGO_DEBUG": "true", "LOG_LEVEL": "WARNING"}
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, env=env, cwd=ROOT)


def ensure(scale: Scale, log: list[str]) -> float:
    """Make the database for ``scale`` unless it is already there; seconds spent."""
    name = scale.database
    if _current_version(name) == f"{DATA_VERSION}:{scale}":
        # Newer migrations (an index, say) are applied, so the run measures the code's schema.
        with psycopg.connect(database_url(name), autocommit=True) as conn:
            # Data generated before a location needed a phone (the clinic.E004 check) gets one.
            conn.execute("UPDATE clinic_location SET phone = %s WHERE phone = ''", [BENCH_PHONE])
        manage(name, "migrate", "--no-input", "-v", "0")
        with psycopg.connect(database_url(name), autocommit=True) as conn:
            conn.execute("ANALYZE")
        log.append(f"{name}: already generated; migrated")
        return 0.0
    began = time.monotonic()
    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    manage(name, "migrate", "--no-input", "-v", "0")
    _generate(scale)
    seconds = time.monotonic() - began
    log.append(f"{name}: generated {scale.patients:,} patients, {scale.appointments:,} appointments in {seconds:.0f} s")
    return seconds


def _pbkdf2(raw: str, iterations: int = 100_000) -> str:
    """Django's pbkdf2_sha256 format (one of the project's hashers), without setting Django up."""
    salt = secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", raw.encode(), salt.encode(), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(digest).decode()}"


def _generate(scale: Scale) -> None:
    password = _pbkdf2(BENCH_PASSWORD)
    per = scale.practitioners_per_location
    with psycopg.connect(database_url(scale.database), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '256MB'")
        conn.execute("SET work_mem = '64MB'")
        with conn.transaction():
            for name in LOCATIONS:
                conn.execute(
                    "INSERT INTO clinic_location (name, time_zone, address, phone, is_active)"
                    " VALUES (%s, %s, '', %s, true)",
                    [name, ZONE, BENCH_PHONE],
                )
            conn.execute(
                """
                INSERT INTO clinic_appointmenttype (name, kind, duration_minutes, performed_by, is_active) VALUES
                ('Free consultation', 'consultation', 45, 'specialist', true),
                ('Extraction session', 'extraction', 60, 'specialist', true),
                ('Progress review', 'review', 20, 'specialist', true)
                """
            )
            # The desk user signs in for the load runs; practitioners are specialists.
            conn.execute(
                """
                INSERT INTO clinic_user (password, is_superuser, username, first_name, last_name, email, is_staff,
                                         is_active, date_joined, home_location_id)
                SELECT %s, false, 'bench-desk', 'Bench', 'Desk', 'desk@bench.test', false, true, now(),
                       (SELECT id FROM clinic_location WHERE name = %s)
                """,
                [password, LOCATIONS[1]],
            )
            conn.execute(
                """
                INSERT INTO clinic_user_groups (user_id, group_id)
                SELECT u.id, g.id FROM clinic_user u, auth_group g
                WHERE u.username = 'bench-desk' AND g.name = 'Front desk'
                """
            )
            conn.execute(
                """
                INSERT INTO clinic_user (password, is_superuser, username, first_name, last_name, email, is_staff,
                                         is_active, date_joined, home_location_id)
                SELECT '!', false, format('prac-%%s-%%s', l.id, n), (%s::text[])[1 + (n %% %s)],
                       (%s::text[])[1 + ((n * 7) %% %s)], format('prac-%%s-%%s@bench.test', l.id, n), false, true,
                       now(), l.id
                FROM clinic_location l, generate_series(1, %s) AS n
                """,
                [FIRST_NAMES, len(FIRST_NAMES), LAST_NAMES, len(LAST_NAMES), per],
            )
            conn.execute(
                """
                INSERT INTO clinic_user_groups (user_id, group_id)
                SELECT u.id, g.id FROM clinic_user u, auth_group g
                WHERE u.username LIKE 'prac-%%' AND g.name = 'Specialist'
                """
            )
            # Staff work where their home is (clinic.User.locations scopes every lookup).
            conn.execute(
                """
                INSERT INTO clinic_user_locations (user_id, location_id)
                SELECT u.id, u.home_location_id FROM clinic_user u
                WHERE u.home_location_id IS NOT NULL AND (u.username = 'bench-desk' OR u.username LIKE 'prac-%%')
                """
            )
            conn.execute(
                """
                INSERT INTO clinic_room (location_id, name, is_active)
                SELECT l.id, format('Room %%s', n), true FROM clinic_location l, generate_series(1, %s) AS n
                """,
                [per],
            )
            conn.execute(
                """
                INSERT INTO clinic_staffschedule (staff_id, location_id, weekday, start_time, end_time)
                SELECT u.id, u.home_location_id, d, '08:00', '20:00'
                FROM clinic_user u, generate_series(0, 6) AS d WHERE u.username LIKE 'prac-%%'
                """
            )
        conn.execute(
            """
            INSERT INTO clinic_patient (first_name, last_name, date_of_birth, email, phone, preferred_contact,
                                        email_consent, email_consent_at, front_desk_notes, created_at, updated_at)
            SELECT f, l, date '1950-01-01' + ((i * 7919) %% 20000)::int,
                   lower(f) || '.' || lower(l) || i || '@example.com',
                   '+44' || (7000000000 + i)::text, 'email', true, now(), '',
                   now() - (i || ' minutes')::interval, now()
            FROM (
                SELECT i, (%s::text[])[1 + (i * 31) %% %s] AS f, (%s::text[])[1 + (i * 17) %% %s] AS l
                FROM generate_series(1::bigint, %s) AS i
            ) AS generated
            """,
            [FIRST_NAMES, len(FIRST_NAMES), LAST_NAMES, len(LAST_NAMES), scale.patients],
        )
        # Bulk loading is far faster into a bare table: set the exclusion constraints and the
        # secondary indexes aside, load, then put them back (re-adding the constraints checks
        # every row, so the generated data still proves it has no double-booking).
        constraints = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'clinic_appointment'::regclass AND contype = 'x'"
        ).fetchall()
        indexes = conn.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
            " WHERE x.indrelid = 'clinic_appointment'::regclass AND NOT x.indisprimary"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
        ).fetchall()
        for name, _definition in constraints:
            conn.execute(f'ALTER TABLE clinic_appointment DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        # Practitioner n of a location works in room n of it; every hour 08:00-20:00, two years.
        conn.execute(
            """
            WITH pairs AS (
                SELECT u.id AS practitioner_id, r.id AS room_id, u.home_location_id AS location_id,
                       row_number() OVER () AS k
                FROM clinic_user u
                JOIN clinic_room r ON r.location_id = u.home_location_id
                 AND r.name = format('Room %%s', split_part(u.username, '-', 3))
                WHERE u.username LIKE 'prac-%%'
            ), types AS (
                SELECT array_agg(id ORDER BY id) AS ids, array_agg(duration_minutes ORDER BY id) AS minutes
                FROM clinic_appointmenttype
            ), slots AS (
                SELECT p.*, d, h,
                       ((current_date + d) + make_time(8 + h, 0, 0)) AT TIME ZONE %s AS start,
                       (p.k * 1000003 + d * 7919 + h * 104729) AS seed
                FROM pairs p, generate_series(-%s, %s - 1) AS d, generate_series(0, %s - 1) AS h
            )
            INSERT INTO clinic_appointment (appointment_type_id, patient_id, practitioner_id, room_id, location_id,
                                            start, "end", status, cancel_reason, notes, created_at)
            SELECT t.ids[1 + abs(s.seed) %% 3], (SELECT min(id) FROM clinic_patient) + abs(s.seed) %% %s,
                   s.practitioner_id, s.room_id, s.location_id, s.start,
                   s.start + make_interval(mins => t.minutes[1 + abs(s.seed) %% 3]),
                   CASE
                     WHEN s.d < 0 AND abs(s.seed) %% 20 = 0 THEN 'cancelled'
                     WHEN s.d < 0 AND abs(s.seed) %% 25 = 1 THEN 'no_show'
                     WHEN s.d < 0 THEN 'completed'
                     WHEN abs(s.seed) %% 2 = 0 THEN 'confirmed'
                     ELSE 'booked'
                   END,
                   CASE WHEN s.d < 0 AND abs(s.seed) %% 20 = 0 THEN 'Patient asked' ELSE '' END,
                   '', now()
            FROM slots s, types t
            """,
            [ZONE, DAYS_BACK, DAYS_AHEAD, SLOTS_PER_DAY, min(scale.patients, PATIENTS_WITH_APPOINTMENTS)],
        )
        for _name, definition in indexes:
            conn.execute(definition)
        for name, definition in constraints:
            conn.execute(f'ALTER TABLE clinic_appointment ADD CONSTRAINT "{name}" {definition}')
        conn.execute("CREATE TABLE bench_meta (version text)")
        conn.execute("INSERT INTO bench_meta VALUES (%s)", [f"{DATA_VERSION}:{scale}"])
        conn.execute("VACUUM ANALYZE")


# --- The clinical layer the reports read (bench/reports.py) ---------------------------------
# Added on top of the booking data in a database of its own: consultations for completed
# consultation appointments, a three-session plan for some, the plan's signed sessions and
# its progress review, each session's aftercare message and next-day check-in (sent, answered
# or not), and the specialist's queue for "worried" answers. Each row is filled generically
# where a NOT NULL column has no default.
#
# Every share is of the appointments, whatever the scale: the booking data's patients are
# random (at 1x a patient has about 2 appointments, at 10x about 10), so a plan's sessions and
# review are completed appointments of its location near the plan's dates, given to the
# plan's patient (the original patient ids are kept in bench_original_patient, and put back
# before a new clinical layer is made). 10x then holds ten times the sessions and reviews of
# 1x, not ten times the chance that a random patient's next visit follows a plan.

CLINICAL_VERSION = "clinical-2"


def _insert(conn: psycopg.Connection[tuple[object, ...]], table: str, columns: dict[str, str], source: str) -> None:
    """INSERT INTO ``table`` the given column expressions, plus a zero value for every other
    NOT NULL column without a default (empty text, false, 0, '{}'), selected ``source``."""
    rows = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s"
        " AND is_nullable = 'NO' AND column_default IS NULL AND column_name <> 'id'",
        [table],
    ).fetchall()
    zero = {"boolean": "false", "jsonb": "'{}'::jsonb", "ARRAY": "'{}'", "uuid": "gen_random_uuid()", "bytea": "''"}
    filled = dict(columns)
    for name, data_type in rows:
        if name not in filled:
            kind = str(data_type)
            filled[str(name)] = zero.get(kind, "0" if kind in ("integer", "smallint", "bigint") else "''")
    names = ", ".join(f'"{n}"' for n in filled)
    conn.execute(f"INSERT INTO {table} ({names}) SELECT {', '.join(filled.values())} {source}")  # noqa: S608


def _lesions(scale: str) -> str:
    """A jsonb of counts in three zones, pseudo-random from ``seed`` times ``scale``."""
    parts = []
    for zone_index, zone in enumerate(("forehead", "nose", "chin")):
        lesions = ", ".join(
            f"'{lesion}', (((seed >> {zone_index * 4 + i}) % {span}) * {scale})::int"
            for i, (lesion, span) in enumerate(
                (("open_comedones", 15), ("closed_comedones", 12), ("papules", 8), ("pustules", 4))
            )
        )
        parts.append(f"'{zone}', jsonb_build_object({lesions})")
    return f"jsonb_build_object({', '.join(parts)})"


def ensure_clinical(scale: Scale, log: list[str]) -> float:
    """The booking data for ``scale`` plus the clinical layer; seconds spent."""
    if _current_version(scale.database) is not None:
        # The booking generator leaves the locations without a phone, which the system
        # checks run by ``migrate`` refuse on a second run: give them one first.
        with psycopg.connect(database_url(scale.database), autocommit=True) as conn:
            conn.execute("UPDATE clinic_location SET phone = '+44 20 7946 0000' WHERE phone = ''")
    spent = ensure(scale, log)
    with psycopg.connect(database_url(scale.database), autocommit=True) as conn:
        done = (
            conn.execute("SELECT 1 FROM information_schema.tables WHERE table_name = 'bench_clinical'").fetchone()
            and conn.execute("SELECT version FROM bench_clinical").fetchone()
        )
        if done and done[0] == CLINICAL_VERSION:
            return spent
    began = time.monotonic()
    _generate_clinical(scale)
    seconds = time.monotonic() - began
    log.append(f"{scale.database}: clinical layer in {seconds:.0f} s")
    return spent + seconds


def _generate_clinical(scale: Scale) -> None:
    with psycopg.connect(database_url(scale.database), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET work_mem = '64MB'")
        conn.execute("DROP TABLE IF EXISTS bench_clinical")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_original_patient (appointment_id bigint PRIMARY KEY, patient_id bigint)"
        )
        conn.execute(
            "UPDATE clinic_appointment a SET patient_id = o.patient_id FROM bench_original_patient o"
            " WHERE o.appointment_id = a.id"
        )
        conn.execute("TRUNCATE bench_original_patient")
        for table in (
            "aftercare_specialistqueueentry",
            "aftercare_checkin",
            "aftercare_message",
            "treatments_progressreview",
            "treatments_treatmentsession",
            "consultations_treatmentplan",
            "consultations_consultation",
            "treatments_productlot",
            "treatments_product",
        ):
            conn.execute(f"TRUNCATE {table} CASCADE")
        conn.execute(
            "INSERT INTO treatments_product (name, active_ingredient, allergens, is_active)"
            " VALUES ('Bench benzoyl peroxide', 'Benzoyl peroxide', '{}', true)"
        )
        conn.execute(
            "INSERT INTO treatments_productlot (product_id, lot_number, expires_on, is_active, created_at)"
            " SELECT p.id, 'BENCH-' || n, current_date + 365, true, now()"
            " FROM treatments_product p, generate_series(1, 12) AS n"
        )
        # A consultation for every completed consultation appointment; four in five recommend.
        _insert(
            conn,
            "consultations_consultation",
            {
                "appointment_id": "a.id",
                "patient_id": "a.patient_id",
                "specialist_id": "a.practitioner_id",
                "status": "'signed'",
                "fitzpatrick": "1 + a.id % 6",
                "iga": "2 + a.id % 3",
                "gags_score": "4 + a.id % 20",
                "lesion_counts": _lesions("1").replace("seed", "(a.id * 2654435761 % 4294967296)"),
                "rules_outcome": "CASE WHEN a.id % 5 = 0 THEN 'defer' ELSE 'recommended' END",
                "ruleset_version": "'2026.1'",
                "created_at": "a.start",
                "updated_at": "a.start",
                "signed_at": "a.start + interval '40 minutes'",
            },
            "FROM clinic_appointment a JOIN clinic_appointmenttype t ON t.id = a.appointment_type_id"
            " WHERE t.kind = 'consultation' AND a.status = 'completed'",
        )
        _insert(
            conn,
            "consultations_treatmentplan",
            {
                "consultation_id": "c.id",
                "patient_id": "c.patient_id",
                "status": "'active'",
                "sessions_planned": "3",
                "interval_days": "21",
                "focus_zones": "'{forehead,nose}'",
                "goals": "'Fewer blackheads'",
                "starts_on": "(c.signed_at)::date + 7",
                "review_on": "(c.signed_at)::date + 70",
                "consent_version": "'2026-2'",
                "consent_name": "'Bench Patient'",
                "consented_at": "c.signed_at + interval '2 days'",
                "created_by_id": "c.specialist_id",
                "created_at": "c.signed_at",
            },
            # About one consultation in four goes on to a consented plan.
            "FROM consultations_consultation c WHERE c.rules_outcome = 'recommended' AND c.id % 7 IN (0, 1, 2)",
        )
        # Each plan's sessions (at 7, 28 and 49 days from its consultation) and its review (at 77
        # days): a completed appointment of the kind at the plan's location, in the two weeks from that
        # day (one of the next 16, picked by the plan's id, so that plans begun the same day do not
        # all want the same visit); a visit wanted by two plans goes to one (some plans then
        # stop short, as some do). Those visits become the plan patient's.
        conn.execute(
            """CREATE TEMPORARY TABLE bench_pick AS
            SELECT DISTINCT ON (x.appointment_id) x.appointment_id, x.plan_id, x.patient_id, x.kind, x.step
            FROM (
                SELECT pl.id AS plan_id, pl.patient_id, w.kind, w.step, pick.id AS appointment_id
                FROM consultations_treatmentplan pl
                JOIN consultations_consultation co ON co.id = pl.consultation_id
                JOIN clinic_appointment ca ON ca.id = co.appointment_id
                CROSS JOIN (VALUES ('extraction', 1, 7), ('extraction', 2, 28), ('extraction', 3, 49),
                                   ('review', 1, 77)) AS w(kind, step, days)
                CROSS JOIN LATERAL (
                    SELECT a.id FROM clinic_appointment a JOIN clinic_appointmenttype t ON t.id = a.appointment_type_id
                    WHERE a.location_id = ca.location_id AND a.start >= ca.start + make_interval(days => w.days)
                      AND a.start < ca.start + make_interval(days => w.days + 14)
                      AND a.status = 'completed' AND t.kind = w.kind
                    ORDER BY a.start OFFSET (pl.id % 16) LIMIT 1
                ) pick
            ) x
            ORDER BY x.appointment_id, x.plan_id"""
        )
        conn.execute(
            "INSERT INTO bench_original_patient SELECT a.id, a.patient_id FROM clinic_appointment a"
            " JOIN bench_pick p ON p.appointment_id = a.id"
        )
        conn.execute(
            "UPDATE clinic_appointment a SET patient_id = p.patient_id FROM bench_pick p WHERE p.appointment_id = a.id"
        )
        # A signed session for each visit picked for a plan, numbered in order.
        _insert(
            conn,
            "treatments_treatmentsession",
            {
                "appointment_id": "x.id",
                "patient_id": "x.patient_id",
                "aesthetician_id": "x.practitioner_id",
                "plan_id": "x.plan_id",
                "session_number": "x.n",
                "sessions_planned": "3",
                "status": "'signed'",
                "started_at": "x.start",
                "rescreened_at": "x.start",
                "extraction_method": "(ARRAY['manual_gauze','manual_cotton','comedone_extractor','lancet'])"
                "[1 + x.id % 4]",
                "lesions_present": _lesions("0.7").replace("seed", "(x.id * 2654435761 % 4294967296)"),
                "lesions_extracted": "'{}'::jsonb",
                "pain": "x.id % 6",
                "complications": "CASE WHEN x.id % 13 = 0 THEN '{excessive_redness}'::varchar[]"
                " ELSE '{}'::varchar[] END",
                "product_lot_id": "(SELECT min(id) FROM treatments_productlot) + x.id % 12",
                "aftercare_explained": "true",
                "signed_at": "x.start + interval '55 minutes'",
                "signed_by_id": "x.practitioner_id",
            },
            """FROM (
                SELECT a.*, p.plan_id, row_number() OVER (PARTITION BY p.plan_id ORDER BY a.start) AS n
                FROM bench_pick p JOIN clinic_appointment a ON a.id = p.appointment_id
                WHERE p.kind = 'extraction'
            ) x""",
        )
        # The plan's progress review.
        _insert(
            conn,
            "treatments_progressreview",
            {
                "patient_id": "a.patient_id",
                "plan_id": "pl.id",
                "appointment_id": "a.id",
                "specialist_id": "a.practitioner_id",
                "decision": "'continue'",
                "lesions_present": _lesions("0.5").replace("seed", "(a.id * 2654435761 % 4294967296)"),
                "iga": "a.id % 4",
                "gags_total": "a.id % 18",
                "decided_at": "a.start + interval '25 minutes'",
            },
            # Only a plan with a session signed by then is reviewed.
            """FROM bench_pick p JOIN clinic_appointment a ON a.id = p.appointment_id
            JOIN consultations_treatmentplan pl ON pl.id = p.plan_id
            WHERE p.kind = 'review' AND EXISTS (
                SELECT 1 FROM treatments_treatmentsession s WHERE s.plan_id = pl.id AND s.started_at < a.start)""",
        )
        # Each session's aftercare email and next-day check-in: 92% sent, 4% failed, 4% no consent.
        for kind, due in (("aftercare_right_after", "interval '1 hour'"), ("checkin_day1", "interval '1 day'")):
            _insert(
                conn,
                "aftercare_message",
                {
                    "patient_id": "s.patient_id",
                    "location_id": "a.location_id",
                    "kind": f"'{kind}'",
                    "status": "CASE WHEN s.id % 25 = 0 THEN 'failed' WHEN s.id % 25 = 1 THEN 'skipped_no_consent'"
                    " ELSE 'sent' END",
                    "due_at": f"s.started_at + {due}",
                    "next_attempt_at": f"s.started_at + {due}",
                    "attempts": "1",
                    "attempt_limit": "6",
                    "sent_at": f"CASE WHEN s.id % 25 > 1 THEN s.started_at + {due} + make_interval(secs => s.id % 300)"
                    " END",
                    "subject": "'Your aftercare'",
                    "body_text": "'(bench)'",
                    "body_html": "'(bench)'",
                    "source": "'treatment_session:' || s.id",
                    "idempotency_key": "'treatment_session:' || s.id",
                    "created_at": "s.started_at",
                },
                "FROM treatments_treatmentsession s JOIN clinic_appointment a ON a.id = s.appointment_id",
            )
        _insert(
            conn,
            "aftercare_checkin",
            {
                "message_id": "m.id",
                "patient_id": "m.patient_id",
                "answer": "CASE WHEN m.id % 10 = 0 THEN 'worried' WHEN m.id % 10 < 3 THEN 'red_or_sensitive'"
                " ELSE 'fine' END",
                "answered_at": "m.sent_at + make_interval(hours => (1 + m.id % 9)::int)",
            },
            "FROM aftercare_message m WHERE m.kind = 'checkin_day1' AND m.status = 'sent' AND m.id % 4 <> 0",
        )
        _insert(
            conn,
            "aftercare_specialistqueueentry",
            {
                "checkin_id": "c.id",
                "patient_id": "c.patient_id",
                "created_at": "c.answered_at",
                "resolved_at": "c.answered_at + make_interval(hours => (1 + c.id % 20)::int)",
                "resolved_by_id": "(SELECT min(id) FROM clinic_user WHERE username LIKE 'prac-%%')",
                "resolution": "'Called the patient'",
            },
            "FROM aftercare_checkin c WHERE c.answer = 'worried'",
        )
        conn.execute("CREATE TABLE bench_clinical (version text)")
        conn.execute("INSERT INTO bench_clinical VALUES (%s)", [CLINICAL_VERSION])
        conn.execute("VACUUM ANALYZE")
