"""Random, synthetic referral content (people, payers, codes, orders) and its truth."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from synth import codes as icd

# fmt: off
FIRST_NAMES = [
    "Dana", "Maria", "José", "Tomas", "Priya", "Aisha", "Liam", "Noah", "Emma", "Olivia",
    "Sofía", "Zoë", "Renée", "Chloé", "Björn", "Siobhan", "Mei", "Hiroshi", "Fatima", "Omar",
    "Lucía", "André", "Nguyen", "Kwame", "Ingrid", "Raj", "Anika", "Marcus", "Keisha", "Diego",
    "Hannah", "Elijah", "Grace", "Mateo", "Ava", "Isaiah", "Leilani", "Tyrone", "Camille",
    "Joaquín", "Ana-Maria", "Jean-Luc", "Mary-Kate", "Bjørn", "Inés", "Yusuf", "Svetlana",
    "Dmitri", "Kai", "Wen", "Ruth", "Harold", "Dolores", "Earl", "Brianna", "Tanner", "Skylar",
    "Thanh", "Esperanza", "Colm", "Declan", "Nadia", "Farah", "Amara", "Chidi", "Lars", "Padma",
    "Ximena", "Jalen", "Rosa", "Gustavo", "Heather", "Travis", "Kristin", "Bethany",
]
# fmt: on
# fmt: off
LAST_NAMES = [
    "Whitfield", "Lopez", "Reyes", "Natarajan", "O'Neil", "O'Brien", "García-López",
    "Smith-Jones", "Nguyen", "Müller", "Ibáñez", "D'Angelo", "McAllister", "Okafor",
    "Lindqvist", "Park", "Kowalski", "Haddad", "Yamamoto", "Fernández", "Johansson", "Petrov",
    "Abernathy", "Tran", "Whitehorse", "Begay", "Castillo", "Sørensen", "Dubois", "Khan",
    "Patel", "Mendoza", "Washington", "Thompson", "Kim", "Olsen", "Brennan", "Delacroix",
    "Nakamura", "Achebe", "Moreau", "Pérez-Soto", "Van Dyke", "MacLeod", "Ramírez", "Schultz",
    "Lundgren", "Oyelaran", "Fitzgerald", "Hoang", "Zielinski", "Cruz", "Ortiz", "Gallagher",
    "Bergström", "Ahmadi", "Chen", "Rossi", "St. Clair", "Hernández", "Wójcik", "Nwosu",
    "Callahan", "Ferreira", "Iversen", "Kaur",
]
# fmt: on
# fmt: off
PRESCRIBER_FIRST = [
    "Helen", "Mark", "Sarah", "Alan", "Ruth", "David", "Anjali", "Robert", "Megan", "Kenji",
    "Laura", "Samuel", "Elena", "Gregory", "Nora", "Victor", "Janelle", "Tobias", "Ingrid",
    "Rafael", "Yvonne", "Desmond", "Miriam", "Patrick", "Leah", "Andrés", "Beatriz", "Ola",
    "Carmen", "Wesley", "Thu", "Farid", "Corinne", "Julián", "Renata", "Bridget",
]
# fmt: on
# fmt: off
CREDENTIALS = [
    "MD", "DO", "ND", "PA-C", "ARNP", "RN", "DC", "PT", "DPT",
]
# fmt: on
# fmt: off
CRED_WEIGHTS = [
    30, 12, 12, 10, 12, 3, 14, 5, 5,
]
# fmt: on
CRED_DOTTED = {"MD": "M.D.", "DO": "D.O.", "ND": "N.D.", "DC": "D.C.", "PT": "P.T."}
# fmt: off
STAFF = [
    "Kayla", "Brandon", "Jess", "Marisol", "Tiffany", "Devon", "Alexis", "Rosa", "Quinn",
]
# fmt: on

# fmt: off
PLACES = [
    "Lakeview", "Rainier", "Cascade", "Puget Sound", "Evergreen", "Olympic", "Northgate",
    "Capitol Hill", "Ballard", "Eastside", "Tahoma", "Snoqualmie", "Skagit Valley", "Columbia",
    "Harbor", "Salish Sea", "Emerald City", "Bayview", "Green River", "Juniper", "Alder Creek",
]
# fmt: on
# fmt: off
CLINIC_TYPES = [
    "Family Medicine", "Chiropractic", "Naturopathic Clinic", "Sports Medicine",
    "Spine & Rehab", "Orthopedics", "Physical Therapy", "Internal Medicine", "Urgent Care",
    "Primary Care", "Integrative Health", "Chiropractic & Wellness", "Pain Management",
    "Occupational Medicine", "Medical Group", "Health Center",
]
# fmt: on
# fmt: off
CITIES = [
    ("Seattle", "981"), ("Tacoma", "984"), ("Bellevue", "980"), ("Everett", "982"),
    ("Olympia", "985"), ("Spokane", "992"), ("Yakima", "989"), ("Kirkland", "980"),
    ("Renton", "980"), ("Bothell", "980"), ("Lynnwood", "980"), ("Bellingham", "982"),
    ("Vancouver", "986"), ("Kent", "980"), ("Federal Way", "980"), ("Puyallup", "983"),
]
# fmt: on
AREA = {"98": ["206", "425", "253", "360"], "99": ["509"]}
# fmt: off
STREETS = [
    "Eastlake Ave E", "Pacific Hwy S", "NE 8th St", "Main St", "Broadway", "Rainier Ave S",
    "S 19th St", "Meridian Ave", "Evergreen Way", "Capitol Blvd SE", "N Division St",
    "Yakima Ave", "Bothell Way NE", "Aurora Ave N", "160th Ave SE", "Mill Plain Blvd",
]
# fmt: on
# fmt: off
SUITES = [
    "", "", "", ", Suite 200", ", Ste 104", ", #310", ", Bldg B", ", Suite 5A",
]
# fmt: on

# canonical payer name -> (kind, printed variants)
PAYERS = {
    "L&I": (
        "lni",
        [
            "L&I",
            "Labor & Industries",
            "Dept of L&I",
            "WA L&I",
            "Washington State L&I",
            "Dept. of Labor & Industries",
            "Department of Labor and Industries",
            "L & I",
        ],
    ),
    "Premera": ("commercial", ["Premera Blue Cross", "Premera", "Premera BC", "PREMERA"]),
    "Regence": ("commercial", ["Regence BlueShield", "Regence", "Regence BCBS", "REGENCE"]),
    "First Choice": ("commercial", ["First Choice Health", "First Choice", "FCH - First Choice"]),
    "Cigna": ("commercial", ["Cigna", "CIGNA", "Cigna Healthcare"]),
    "Aetna": ("commercial", ["Aetna", "AETNA", "Aetna PPO"]),
    "Kaiser Permanente": ("commercial", ["Kaiser Permanente", "Kaiser", "Kaiser Permanente WA"]),
    "United Healthcare": ("commercial", ["United Healthcare", "UnitedHealthcare", "UHC"]),
    "Group Health": ("commercial", ["Group Health", "Group Health Cooperative"]),
}
# fmt: off
PIP_CARRIERS = [
    "Progressive", "State Farm", "GEICO", "Allstate", "USAA", "Liberty Mutual", "PEMCO",
    "Farmers", "Safeco", "Nationwide", "American Family",
]
# fmt: on
PAYER_WEIGHTS = {
    "L&I": 16,
    "pip": 16,
    "Premera": 10,
    "Regence": 10,
    "First Choice": 5,
    "Cigna": 5,
    "Aetna": 5,
    "Kaiser Permanente": 6,
    "United Healthcare": 6,
    "Group Health": 4,
    None: 7,
}

NUM_WORDS = {
    1: "one",
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    8: "eight",
    10: "ten",
    12: "twelve",
}


def luhn_npi_check_digit(first9: str) -> str:
    digits = [int(d) for d in "80840" + first9]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:  # positions that get doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def npi_is_valid(npi: str) -> bool:
    return (
        len(npi) == 10
        and npi.isdigit()
        and npi[0] in "12"
        and luhn_npi_check_digit(npi[:9]) == npi[9]
    )


def make_npi(rng: random.Random) -> str:
    first9 = rng.choice("12") + "".join(rng.choice("0123456789") for _ in range(8))
    return first9 + luhn_npi_check_digit(first9)


# ----------------------------------------------------------------------------- dates


def fmt_date(d: dt.date, rng: random.Random, *, allow_short_year: bool = True) -> str:
    styles = [
        "%m/%d/%Y",
        "%m/%d/%Y",
        "%Y-%m-%d",
        "%b %d, %Y",
        "%B %d, %Y",
        "%d %B %Y",
        "%m-%d-%Y",
        "%d-%b-%Y",
        "nopad",
    ]
    if allow_short_year:
        styles.append("%m/%d/%y")
    s = rng.choice(styles)
    if s == "nopad":
        return f"{d.month}/{d.day}/{d.year}"
    out = d.strftime(s)
    if s in ("%b %d, %Y", "%B %d, %Y") and out.split()[1].startswith("0"):
        out = out.replace(" 0", " ", 1)
    return out


def fax_stamp(d: dt.date, rng: random.Random) -> str:
    h, m = rng.randint(7, 18), rng.randint(0, 59)
    style = rng.randrange(4)
    if style == 0:
        return f"{d.strftime('%b-%d-%Y').upper()} {h:02d}:{m:02d}"
    if style == 1:
        ap = "AM" if h < 12 else "PM"
        return f"{d.strftime('%m/%d/%Y')} {(h - 1) % 12 + 1}:{m:02d} {ap}"
    if style == 2:
        return f"{d.strftime('%m/%d/%y')} {h:02d}:{m:02d}"
    return f"{d.strftime('%a %b %d %Y').upper()} {h:02d}:{m:02d}"


# ----------------------------------------------------------------------------- orders

# (count, count_max, period, unit) -> phrases
FREQ_PHRASES = {
    (2, None, 1, "wk"): [
        "2x/wk",
        "2x/week",
        "2x per week",
        "twice weekly",
        "twice a week",
        "2 times per week",
        "BIW",
        "2 times a week",
        "2/wk",
        "two times weekly",
        "2 x week",
    ],
    (1, None, 1, "wk"): [
        "1x/wk",
        "once a week",
        "once weekly",
        "weekly",
        "1 time per week",
        "1x/week",
        "one time a week",
    ],
    (3, None, 1, "wk"): ["3x/wk", "TIW", "three times a week", "3 times weekly", "3x/week"],
    (1, 2, 1, "wk"): ["1-2x/wk", "1-2 times per week", "1 to 2 times a week", "1-2x/week"],
    (2, 3, 1, "wk"): ["2-3x/wk", "2-3 times per week", "2 to 3 times weekly"],
    (1, None, 2, "wk"): ["every other week", "every 2 weeks", "once every two weeks"],
    (4, None, 1, "mo"): ["4 visits per month", "4x/month", "4 times a month"],
    (1, None, 1, "mo"): ["1x per month", "once a month", "monthly", "1x/mo"],
    (2, None, 1, "mo"): ["2x/month", "twice a month", "2 times per month"],
}
FREQ_WEIGHTS = {
    (2, None, 1, "wk"): 30,
    (1, None, 1, "wk"): 15,
    (3, None, 1, "wk"): 6,
    (1, 2, 1, "wk"): 12,
    (2, 3, 1, "wk"): 5,
    (1, None, 2, "wk"): 6,
    (4, None, 1, "mo"): 5,
    (1, None, 1, "mo"): 4,
    (2, None, 1, "mo"): 3,
}


def duration_phrase(value: int, vmax: int | None, unit: str, rng: random.Random) -> str:
    words = {
        "wk": ["weeks", "wks", "wk", "weeks"],
        "mo": ["months", "mos", "mo", "months"],
        "d": ["days", "days"],
        "a": ["year", "yr"],
    }[unit]
    u = rng.choice(words)
    if unit == "a" and value > 1:
        u += "s"
    if vmax:
        num = rng.choice([f"{value}-{vmax}", f"{value} to {vmax}", f"{value}-{vmax}"])
    elif value in NUM_WORDS and rng.random() < 0.15:
        num = NUM_WORDS[value]
    else:
        num = str(value)
    lead = rng.choice(["", "", "x ", "x", "for ", "for ", "x "])
    if lead == "x":
        return f"x{num} {u}"
    return f"{lead}{num} {u}"


def pick_duration(rng: random.Random) -> tuple[dict, str]:
    r = rng.random()
    if r < 0.55:
        v, vmax, unit = rng.choice([4, 6, 6, 6, 8, 8, 10, 12, 3, 2]), None, "wk"
    elif r < 0.67:
        v, vmax, unit = rng.choice([(4, 6), (6, 8), (4, 8), (2, 4)]) + ("wk",)
    elif r < 0.88:
        v, vmax, unit = rng.choice([1, 2, 3, 3, 6, 12]), None, "mo"
    elif r < 0.92:
        v, vmax, unit = rng.choice([(2, 3), (3, 6)]) + ("mo",)
    elif r < 0.96:
        v, vmax, unit = 1, None, "a"
    else:
        v, vmax, unit = rng.choice([30, 60, 90]), None, "d"
    truth = {"value": v, "value_max": vmax, "unit": unit}
    return truth, duration_phrase(v, vmax, unit, rng)


def pick_frequency(rng: random.Random) -> tuple[dict, str]:
    keys = list(FREQ_WEIGHTS)
    key = rng.choices(keys, weights=[FREQ_WEIGHTS[k] for k in keys])[0]
    count, cmax, period, unit = key
    truth = {"count": count, "count_max": cmax, "period": period, "period_unit": unit}
    return truth, rng.choice(FREQ_PHRASES[key])


# ----------------------------------------------------------------------------- facts


@dataclass
class Dx:
    code: str  # dotted, upper case, as the truth lists it
    written: str  # as printed
    desc: str | None  # printed description, or None


@dataclass
class Person:
    first: str
    last: str
    cred: str | None = None
    npi: str | None = None


@dataclass
class Facts:
    scenario: str
    patient: Person
    dob: dt.date
    sex: str
    prescriber: Person | None  # None: no prescriber name anywhere
    show_cred: bool
    show_npi: bool
    cred_text: str | None
    other_providers: list[Person]
    clinic: dict
    rx_date: dt.date
    show_rx_date: bool
    payer_key: str | None  # canonical name (or carrier for PIP), None: no payer printed
    payer_kind: str | None
    payer_text: str | None
    claim_number: str | None
    member_id: str | None
    group_no: str | None
    injury_date: dt.date | None
    dx: list[Dx]
    dx_only_desc: list[str]
    freq: dict | None
    freq_text: str | None
    dur: dict | None
    dur_text: str | None
    shorthand: str | None  # "2x6" style combined order, when used
    visits: int | None
    visits_text: str | None
    distractors: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    meds: list[str] = field(default_factory=list)
    followup: str | None = None
    cpt: list[str] = field(default_factory=list)
    staff: str = "Front desk"
    unreadable: str | None = None  # kind of unreadable document

    # --- truth ------------------------------------------------------------------------
    def payer_truth(self) -> dict:
        if self.payer_key is None:
            return {"name": None, "kind": None, "claim_number": None}
        return {"name": self.payer_key, "kind": self.payer_kind, "claim_number": self.claim_number}

    def truth(self, rx_date_override: dt.date | None = None) -> dict:
        if self.unreadable:
            status, reasons = icd.decide(True, [], False, False, False, None)
            return {
                "diagnoses": [],
                "frequency": None,
                "duration": None,
                "visits": None,
                "patient": {"name": None, "dob": None},
                "prescriber": {"name": None, "credentials": None, "npi": None},
                "rx_date": None,
                "payer": {"name": None, "kind": None, "claim_number": None},
                "status": status,
                "reasons": reasons,
            }
        codes: list[str] = []
        for d in self.dx:
            if d.code not in codes:
                codes.append(d.code)
        p = self.prescriber
        status, reasons = icd.decide(
            False,
            codes,
            self.freq is not None,
            self.dur is not None,
            p is not None,
            self.payer_key,
        )
        rx = self.rx_date if self.show_rx_date else rx_date_override
        return {
            "diagnoses": codes,
            "frequency": self.freq,
            "duration": self.dur,
            "visits": self.visits,
            "patient": {
                "name": f"{self.patient.first} {self.patient.last}",
                "dob": self.dob.isoformat(),
            },
            "prescriber": {
                "name": f"{p.first} {p.last}" if p else None,
                "credentials": p.cred if p and self.show_cred else None,
                "npi": p.npi if p and self.show_npi else None,
            },
            "rx_date": rx.isoformat() if rx else None,
            "payer": self.payer_truth(),
            "status": status,
            "reasons": reasons,
        }


SCENARIOS = {
    "accepted": 44,
    "accepted_preauth": 16,
    "rejected_no_reimbursable": 8,
    "missing_frequency": 5,
    "missing_duration": 5,
    "missing_prescriber": 4,
    "non_billable_code": 5,
    "invalid_code": 5,
    "no_diagnosis_code": 4,
    "unreadable": 4,
}
PREAUTH = ["Premera", "Regence", "Group Health", "Kaiser Permanente"]


def pick_scenario(rng: random.Random) -> str:
    return rng.choices(list(SCENARIOS), weights=list(SCENARIOS.values()))[0]


def _phone(rng: random.Random, zip3: str) -> str:
    area = rng.choice(AREA.get(zip3[:2], ["206"]))
    return f"{area}", f"555-01{rng.randint(0, 99):02d}"


def fmt_phone(area: str, num: str, rng: random.Random) -> str:
    s = rng.randrange(4)
    if s == 0:
        return f"({area}) {num}"
    if s == 1:
        return f"{area}-{num}"
    if s == 2:
        return f"{area}.{num.replace('-', '.')}"
    return f"{area} {num.replace('-', ' ')}"


def make_clinic(rng: random.Random) -> dict:
    city, zip3 = rng.choice(CITIES)
    zipc = zip3 + f"{rng.randint(0, 99):02d}"
    area, num = _phone(rng, zip3)
    fax_num = num[:-2] + f"{(int(num[-2:]) + 1) % 100:02d}"
    name = f"{rng.choice(PLACES)} {rng.choice(CLINIC_TYPES)}"
    street = f"{rng.randint(100, 22999)} {rng.choice(STREETS)}{rng.choice(SUITES)}"
    return {
        "name": name,
        "street": street,
        "city": city,
        "zip": zipc,
        "phone": fmt_phone(area, num, rng),
        "fax": fmt_phone(area, fax_num, rng),
        "phone_digits": area + num.replace("-", ""),
        "fax_digits": area + fax_num.replace("-", ""),
        "email_domain": name.lower().replace("&", "and").replace(" ", "") + ".example",
    }


def _person(rng: random.Random, prescriber: bool) -> Person:
    if prescriber:
        first = rng.choice(PRESCRIBER_FIRST + FIRST_NAMES[:30])
        cred = rng.choices(CREDENTIALS, weights=CRED_WEIGHTS)[0]
        return Person(first, rng.choice(LAST_NAMES), cred, make_npi(rng))
    return Person(rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))


def _claim_lni(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPRSTWXY"
    return rng.choice(letters) + rng.choice(letters) + f"{rng.randint(0, 99999):05d}"


def _claim_pip(rng: random.Random) -> str:
    s = rng.randrange(4)
    if s == 0:
        return f"{rng.randint(10, 99)}-{rng.randint(1000, 9999)}-{rng.randint(100, 999)}"
    if s == 1:
        return f"{rng.randint(10**9, 10**10 - 1)}"
    if s == 2:
        return f"{rng.randint(1000, 9999)}{rng.choice('ABCDEFGHJK')}{rng.randint(1000, 9999)}"
    return f"{rng.randint(100, 999)}-{rng.randint(100000, 999999)}"


def _member_id(rng: random.Random) -> str:
    prefix = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(3))
    return prefix + "".join(rng.choice("0123456789") for _ in range(rng.randint(8, 10)))


def _pick_payer(rng: random.Random, scenario: str):
    if scenario == "accepted_preauth":
        key = rng.choice(PREAUTH)
    elif scenario == "accepted":
        keys = [k for k in PAYER_WEIGHTS if k not in PREAUTH]
        key = rng.choices(keys, weights=[PAYER_WEIGHTS[k] for k in keys])[0]
    else:
        keys = list(PAYER_WEIGHTS)
        key = rng.choices(keys, weights=[PAYER_WEIGHTS[k] for k in keys])[0]
    if key is None:
        return None, None, None, None, None, None
    if key == "pip":
        carrier = rng.choice(PIP_CARRIERS)
        text = rng.choice(
            [
                f"{carrier} PIP",
                f"{carrier} (PIP)",
                f"PIP - {carrier}",
                f"{carrier} Auto PIP",
                f"{carrier} Insurance - PIP",
            ]
        )
        return carrier, "pip", text, _claim_pip(rng), None, None
    kind, variants = PAYERS[key]
    text = rng.choice(variants)
    if kind == "lni":
        return key, kind, text, _claim_lni(rng), None, None
    group = None if rng.random() < 0.4 else f"{rng.randint(1000000, 9999999)}"
    return key, kind, text, None, _member_id(rng), group


def _rand_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


HISTORY = [
    "Patient reports {area} pain x {n} months.",
    "Symptoms for {n} weeks, worse with sitting.",
    "{Area} pain since MVA on {injury}.",
    "Injured at work on {injury} lifting boxes.",
    "Pain x {n} wks, rated 6/10.",
    "Had PT 2x/week in {year} with partial relief.",
    "Previous massage 1x/wk for 4 weeks in {year}, helpful.",
    "Chiropractic care 3x/wk x 2 wks after the injury.",
    "Onset {n} weeks ago after a fall.",
    "Chronic {area} pain for {n} years.",
]
FOLLOWUPS = [
    "Recheck in {n} wks.",
    "Follow up in {n} weeks.",
    "RTC {n} weeks.",
    "Return to clinic in {n} wks or sooner prn.",
    "F/U {n} weeks.",
    "Re-evaluate in {n} weeks.",
]
# fmt: off
MEDS = [
    "Ibuprofen 600 mg TID", "Cyclobenzaprine 10 mg BID", "Naproxen 500 mg BID",
    "Acetaminophen 500 mg q6h prn", "Methocarbamol 750 mg TID prn", "Meloxicam 15 mg daily",
    "Gabapentin 300 mg TID", "Tizanidine 4 mg QHS", "Lidocaine 5% patch 12 hrs on/12 off",
    "Diclofenac gel QID to affected area",
]
# fmt: on
# fmt: off
CPT = [
    "97124", "97140", "97112", "97530", "97010", "G0283", "97110", "98941", "99213",
]
# fmt: on
# fmt: off
AREAS = [
    "low back", "neck", "shoulder", "upper back", "hip", "knee", "lumbar", "cervical",
]
# fmt: on


def _distractor_texts(rng: random.Random, f: Facts) -> None:
    inj = f.injury_date or (f.rx_date - dt.timedelta(days=rng.randint(20, 200)))
    year = f.rx_date.year - rng.randint(1, 3)

    def fill(t: str) -> str:
        area = rng.choice(AREAS)
        return t.format(
            area=area,
            Area=area.capitalize(),
            n=rng.choice([2, 3, 4, 6, 8]),
            injury=fmt_date(inj, rng, allow_short_year=False),
            year=year,
        )

    f.history = [fill(t) for t in rng.sample(HISTORY, rng.randint(1, 3))]
    f.followup = fill(rng.choice(FOLLOWUPS)) if rng.random() < 0.6 else None
    f.meds = rng.sample(MEDS, rng.randint(0, 3))
    f.cpt = rng.sample(CPT, rng.randint(0, 3))


def make_facts(rng: random.Random, scenario: str) -> Facts:
    rx = _rand_date(rng, dt.date(2025, 1, 6), dt.date(2027, 6, 30))
    dob = _rand_date(rng, dt.date(1942, 1, 1), dt.date(2007, 12, 31))
    patient = _person(rng, False)
    prescriber = None if scenario == "missing_prescriber" else _person(rng, True)
    n_others = rng.choice([0, 0, 0, 1, 2, 3]) if prescriber else 0
    others: list[Person] = []
    used = {patient.last} | ({prescriber.last} if prescriber else set())
    while len(others) < n_others:
        o = _person(rng, True)
        if o.last not in used:
            used.add(o.last)
            others.append(o)
    if prescriber and prescriber.last == patient.last:
        prescriber.last = rng.choice([n for n in LAST_NAMES if n != patient.last])
    payer_key, kind, ptext, claim, member, group = _pick_payer(rng, scenario)
    injury = None
    if kind in ("lni", "pip") or rng.random() < 0.2:
        injury = rx - dt.timedelta(days=rng.randint(5, 240))

    dx: list[Dx] = []
    only_desc: list[str] = []
    n = rng.choices([1, 2, 3, 4], weights=[35, 40, 18, 7])[0]

    def add(code: str, written: str | None = None, desc_from: str | None = None):
        desc = icd.description(desc_from or code)
        show = rng.random() < 0.55
        if desc and show and rng.random() < 0.15:
            desc = desc.lower()
        dx.append(Dx(code, written or icd.written_form(code, rng), desc if show else None))

    if scenario == "rejected_no_reimbursable":
        for _ in range(n):
            add(icd.pick_nonreimbursable(rng))
    elif scenario == "no_diagnosis_code":
        for _ in range(n):
            c = icd.pick_reimbursable(rng) if rng.random() < 0.7 else icd.pick_nonreimbursable(rng)
            only_desc.append(icd.description(c))
    else:
        for _ in range(n):
            r = rng.random()
            c = icd.pick_reimbursable(rng) if r < 0.8 else icd.pick_nonreimbursable(rng)
            add(c)
        if not any(icd.is_reimbursable(d.code) for d in dx):
            add(icd.pick_reimbursable(rng))
        if scenario == "non_billable_code":
            c = icd.pick_nonbillable(rng)
            pos = rng.randint(0, len(dx))
            add(c)
            dx.insert(pos, dx.pop())
        elif scenario == "invalid_code":
            bad, base = icd.pick_invalid(rng)
            written = icd.written_form(bad, rng)
            desc_src = base if rng.random() < 0.5 else None
            pos = rng.randint(0, len(dx))
            dx.insert(pos, Dx(bad, written, icd.description(desc_src) if desc_src else None))
    # de-duplicate (same code twice would be printed twice; keep first)
    seen: set[str] = set()
    dx = [d for d in dx if not (d.code in seen or seen.add(d.code))]

    freq, freq_text = pick_frequency(rng)
    dur, dur_text = pick_duration(rng)
    shorthand = None
    if (
        freq["period"] == 1
        and freq["period_unit"] == "wk"
        and freq["count_max"] is None
        and dur["unit"] == "wk"
        and dur["value_max"] is None
        and rng.random() < 0.3
    ):
        shorthand = rng.choice(
            [f"{freq['count']}x{dur['value']}", f"{freq['count']} x {dur['value']}"]
        )
    if scenario == "missing_frequency" or (scenario == "missing_duration" and rng.random() < 0.15):
        freq, freq_text, shorthand = None, None, None
    if scenario == "missing_duration" or (scenario == "missing_frequency" and rng.random() < 0.15):
        dur, dur_text, shorthand = None, None, None
    visits = visits_text = None
    if rng.random() < 0.25 or (dur is None and freq is not None and rng.random() < 0.3):
        if (
            freq
            and dur
            and freq["period_unit"] == "wk"
            and dur["unit"] == "wk"
            and rng.random() < 0.7
        ):
            visits = freq["count"] * dur["value"] // freq["period"]
        else:
            visits = rng.choice([6, 8, 10, 12, 12, 16, 20, 24])
        visits_text = rng.choice(
            [
                f"{visits} visits",
                f"Total visits: {visits}",
                f"# visits: {visits}",
                f"{visits} sessions",
                f"Number of visits: {visits}",
                f"({visits} visits)",
            ]
        )
    cred_text = None
    if prescriber:
        c = prescriber.cred
        cred_text = CRED_DOTTED[c] if c in CRED_DOTTED and rng.random() < 0.3 else c

    f = Facts(
        scenario=scenario,
        patient=patient,
        dob=dob,
        sex=rng.choice(["F", "M", "X"]),
        prescriber=prescriber,
        show_cred=prescriber is not None and rng.random() < 0.93,
        show_npi=prescriber is not None and rng.random() < 0.8,
        cred_text=cred_text,
        other_providers=others,
        clinic=make_clinic(rng),
        rx_date=rx,
        show_rx_date=rng.random() < 0.95,
        payer_key=payer_key,
        payer_kind=kind,
        payer_text=ptext,
        claim_number=claim,
        member_id=member,
        group_no=group,
        injury_date=injury,
        dx=dx,
        dx_only_desc=only_desc,
        freq=freq,
        freq_text=freq_text,
        dur=dur,
        dur_text=dur_text,
        shorthand=shorthand,
        visits=visits,
        visits_text=visits_text,
        staff=rng.choice(STAFF),
    )
    _distractor_texts(rng, f)
    return f
