"""Procurement routes and regimes as councils write them, read into the register's route AND
regime: the one vocabulary for anything that reads a route from text (the register import).

"Negotiated without notice", "Competitive dialogue (Light Touch Regime)", "Framework
call-off", "PSR Direct Award C", "Competitive flexible procedure" ... each phrase names the
routes it can mean. A phrase that fits a route under both the Public Contracts Regulations 2015
and the Procurement Act 2023 ("Open procedure", "Direct award") is decided by the start date:
procurements started from 24 February 2025 fall under the Act. A word we do not know is
answered with the nearest phrase we do ("did you mean ..."), not a bare refusal.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date

from contracts.models import ROUTES_BY_REGIME, ProcurementRegime, ProcurementRoute

ACT_STARTS = date(2025, 2, 24)  # procurements started from this day fall under the 2023 Act

R, G = ProcurementRoute, ProcurementRegime
REGIME_OF_ROUTE = {route: regime for regime, routes in ROUTES_BY_REGIME.items()
                   for route in routes}

# Phrase → the routes it can mean (first the 2015 Regulations' one, then the Act's).
_ROUTE_PHRASES: dict[str, tuple[str, ...]] = {
    # Public Contracts Regulations 2015 and the Procurement Act 2023 alike
    "Open procedure": (R.PCR_OPEN, R.PA_OPEN),
    "Open": (R.PCR_OPEN, R.PA_OPEN),
    "Open tender": (R.PCR_OPEN, R.PA_OPEN),
    "Open competition": (R.PCR_OPEN, R.PA_OPEN),
    "Direct award": (R.PCR_NEGOTIATED_WITHOUT_NOTICE, R.PA_DIRECT_AWARD),
    "Single tender action": (R.PCR_NEGOTIATED_WITHOUT_NOTICE, R.PA_DIRECT_AWARD),
    "Waiver": (R.PCR_NEGOTIATED_WITHOUT_NOTICE, R.PA_DIRECT_AWARD),
    # Public Contracts Regulations 2015
    "PCR 2015 open procedure": (R.PCR_OPEN,),
    "Restricted procedure": (R.PCR_RESTRICTED,),
    "Restricted": (R.PCR_RESTRICTED,),
    "Two stage tender": (R.PCR_RESTRICTED,),
    "Competitive dialogue": (R.PCR_COMPETITIVE_DIALOGUE,),
    "Competitive dialogue (Light Touch Regime)": (R.PCR_LIGHT_TOUCH,),
    "Light touch regime": (R.PCR_LIGHT_TOUCH,),
    "Light touch": (R.PCR_LIGHT_TOUCH,),
    "LTR": (R.PCR_LIGHT_TOUCH,),
    "PCR 2015 light touch": (R.PCR_LIGHT_TOUCH,),
    "PCR 2015 light touch regime": (R.PCR_LIGHT_TOUCH,),
    "Light touch regime (PCR 2015)": (R.PCR_LIGHT_TOUCH,),
    "Open procedure (Light Touch Regime)": (R.PCR_LIGHT_TOUCH,),
    "Restricted procedure (Light Touch Regime)": (R.PCR_LIGHT_TOUCH,),
    "Schedule 3 light touch": (R.PCR_LIGHT_TOUCH,),
    "Negotiated procedure without prior publication": (R.PCR_NEGOTIATED_WITHOUT_NOTICE,),
    "Negotiated without prior publication": (R.PCR_NEGOTIATED_WITHOUT_NOTICE,),
    "Negotiated without notice": (R.PCR_NEGOTIATED_WITHOUT_NOTICE,),
    "Negotiated without prior notice": (R.PCR_NEGOTIATED_WITHOUT_NOTICE,),
    "Negotiated procedure without prior notice": (R.PCR_NEGOTIATED_WITHOUT_NOTICE,),
    "Negotiated procedure without publication": (R.PCR_NEGOTIATED_WITHOUT_NOTICE,),
    "Regulation 32": (R.PCR_NEGOTIATED_WITHOUT_NOTICE,),
    "Reg 32": (R.PCR_NEGOTIATED_WITHOUT_NOTICE,),
    "PCR 2015 direct award": (R.PCR_NEGOTIATED_WITHOUT_NOTICE,),
    # Procurement Act 2023
    "Procurement Act open procedure": (R.PA_OPEN,),
    "Open procedure (Procurement Act 2023)": (R.PA_OPEN,),
    "Competitive flexible procedure": (R.PA_COMPETITIVE_FLEXIBLE,),
    "Competitive flexible": (R.PA_COMPETITIVE_FLEXIBLE,),
    "Flexible procedure": (R.PA_COMPETITIVE_FLEXIBLE,),
    "Procurement Act direct award": (R.PA_DIRECT_AWARD,),
    "Direct award (Procurement Act 2023)": (R.PA_DIRECT_AWARD,),
    "Section 41 direct award": (R.PA_DIRECT_AWARD,),
    "Framework call-off": (R.PA_FRAMEWORK_CALL_OFF,),
    "Call-off from a framework": (R.PA_FRAMEWORK_CALL_OFF,),
    "Framework call off": (R.PA_FRAMEWORK_CALL_OFF,),
    "Call-off": (R.PA_FRAMEWORK_CALL_OFF,),
    "Framework": (R.PA_FRAMEWORK_CALL_OFF,),
    "Framework agreement": (R.PA_FRAMEWORK_CALL_OFF,),
    "Mini-competition": (R.PA_FRAMEWORK_CALL_OFF,),
    "Further competition": (R.PA_FRAMEWORK_CALL_OFF,),
    "Direct call-off": (R.PA_FRAMEWORK_CALL_OFF,),
    # Provider Selection Regime
    "Direct Award A": (R.PSR_DIRECT_AWARD_A,),
    "Direct Award B": (R.PSR_DIRECT_AWARD_B,),
    "Direct Award C": (R.PSR_DIRECT_AWARD_C,),
    "PSR Direct Award A": (R.PSR_DIRECT_AWARD_A,),
    "PSR Direct Award B": (R.PSR_DIRECT_AWARD_B,),
    "PSR Direct Award C": (R.PSR_DIRECT_AWARD_C,),
    "Direct award process A": (R.PSR_DIRECT_AWARD_A,),
    "Direct award process B": (R.PSR_DIRECT_AWARD_B,),
    "Direct award process C": (R.PSR_DIRECT_AWARD_C,),
    "Most suitable provider": (R.PSR_MOST_SUITABLE_PROVIDER,),
    "Most suitable provider process": (R.PSR_MOST_SUITABLE_PROVIDER,),
    "PSR most suitable provider": (R.PSR_MOST_SUITABLE_PROVIDER,),
    "MSP": (R.PSR_MOST_SUITABLE_PROVIDER,),
    "Competitive process": (R.PSR_COMPETITIVE_PROCESS,),
    "PSR competitive process": (R.PSR_COMPETITIVE_PROCESS,),
    # Grants and spot purchases
    "Grant": (R.GRANT,),
    "Grant agreement": (R.GRANT,),
    "Grant funding": (R.GRANT,),
    "Spot purchase": (R.SPOT_PURCHASE,),
    "Spot": (R.SPOT_PURCHASE,),
    "Spot contract": (R.SPOT_PURCHASE,),
    "Individual placement": (R.SPOT_PURCHASE,),
}

_REGIME_PHRASES: dict[str, str] = {
    "Public Contracts Regulations 2015": G.PCR_2015,
    "Public Contracts Regulations": G.PCR_2015,
    "PCR 2015": G.PCR_2015,
    "PCR": G.PCR_2015,
    "PCR2015": G.PCR_2015,
    "Light touch regime": G.PCR_2015,
    "Procurement Act 2023": G.PA_2023,
    "Procurement Act": G.PA_2023,
    "PA 2023": G.PA_2023,
    "PA23": G.PA_2023,
    "Provider Selection Regime": G.PSR,
    "PSR": G.PSR,
    "PSR 2023": G.PSR,
    "Health Care Services (Provider Selection Regime) Regulations 2023": G.PSR,
    "Grant": G.GRANT,
    "Spot purchase": G.SPOT_PURCHASE,
}
for _regime in ProcurementRegime:
    _REGIME_PHRASES.setdefault(_regime.label, _regime.value)


def normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.casefold())


ROUTE_WORDS = {normalise(phrase): routes for phrase, routes in _ROUTE_PHRASES.items()}
REGIME_WORDS = {normalise(phrase): regime for phrase, regime in _REGIME_PHRASES.items()}
for _route in ProcurementRoute:
    ROUTE_WORDS.setdefault(normalise(_route.label), tuple(
        r for r in ProcurementRoute if r.label == _route.label))
    ROUTE_WORDS.setdefault(normalise(_route.value), (_route.value,))
_SHOWN = {normalise(phrase): phrase for phrase in _ROUTE_PHRASES}
_REGIMES_SHOWN = {normalise(phrase): phrase for phrase in _REGIME_PHRASES}
EXAMPLES = "Open procedure, Light touch regime, Negotiated without notice, Framework " \
    "call-off, Direct Award C or Grant"


class UnknownWords(ValueError):
    """The text names no route (or regime) we know; the message suggests the nearest."""


@dataclass(frozen=True)
class Procurement:
    regime: str
    route: str


def _suggestion(key: str, shown: dict[str, str]) -> str:
    close = difflib.get_close_matches(key, list(shown), n=1, cutoff=0.6)
    return f" Did you mean '{shown[close[0]]}'?" if close else ""


def read_regime(text: str) -> str:
    """A regime's value from how a register writes it; raises ``UnknownWords``."""
    key = normalise(text)
    if key in REGIME_WORDS:
        return REGIME_WORDS[key]
    raise UnknownWords(f"'{text}' is not a procurement regime we know."
                       f"{_suggestion(key, _REGIMES_SHOWN)} Use Public Contracts Regulations "
                       "2015, Procurement Act 2023, Provider Selection Regime, Grant or Spot "
                       "purchase")


def _routes_of(text: str) -> tuple[str, ...] | None:
    key = normalise(text)
    if key in ROUTE_WORDS:
        return ROUTE_WORDS[key]
    # "Open procedure (PCR 2015)", "Competitive dialogue - Procurement Act": a route and the
    # regime it ran under, in brackets or after a dash.
    match = re.match(r"^(.*?)\s*(?:\((.*)\)|[-–:]\s+(.*))\s*$", text.strip())
    if match:
        route_part, regime_part = match[1], match[2] or match[3] or ""
        routes = ROUTE_WORDS.get(normalise(route_part))
        regime = REGIME_WORDS.get(normalise(regime_part))
        if routes and regime == G.PCR_2015 and normalise(regime_part).startswith("light"):
            return (R.PCR_LIGHT_TOUCH,)
        if routes and regime:
            return tuple(r for r in routes if REGIME_OF_ROUTE[r] == regime) or routes
    return None


def read_procurement(route_text: str, *, regime_text: str = "",
                     started: date | None = None) -> Procurement:
    """The route and its regime for a register's "procurement route" (and, if it has one,
    "regime") cell. Raises ``UnknownWords`` with a suggestion, or when the route and the
    regime do not go together."""
    regime = read_regime(regime_text) if regime_text.strip() else None
    routes = _routes_of(route_text)
    if routes is None:
        key = normalise(route_text)
        raise UnknownWords(f"'{route_text}' is not a procurement route we know."
                           f"{_suggestion(key, _SHOWN)} Use one such as {EXAMPLES}")
    candidates = [r for r in routes if REGIME_OF_ROUTE[r] == regime] if regime else list(routes)
    if not candidates:
        raise UnknownWords(f"{route_text} is not a route under "
                           f"{ProcurementRegime(regime).label}")
    if len(candidates) > 1:
        wanted = G.PCR_2015 if started and started < ACT_STARTS else G.PA_2023
        candidates = [r for r in candidates if REGIME_OF_ROUTE[r] == wanted] or candidates
    route = candidates[0]
    return Procurement(regime=REGIME_OF_ROUTE[route], route=route)
