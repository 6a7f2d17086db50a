"""Model specifications: TOML files in ``models/`` merged over package defaults, never mutated."""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

# how a press whip count enters: a noisy measurement of the count (bias and error with priors), or
# the sensitivity run's hard interval (the count certainly inside the reported range)
WHIP_COUNT_MODES = ("measurement", "interval")
# the vote-level party tilt's distribution around its Congress (coalition/graph.py, prediction/predictor.py)
PARTY_TILT_FORMS = ("normal", "student_t")
# the within-party faction shares: one set for every Congress ("static"), or a random walk over Congresses
# ("congress": docs/model_layers.md "Faction shares by Congress")
FACTION_SHARE_FORMS = ("static", "congress")

DEFAULT_SPEC: Mapping[str, Any] = MappingProxyType(
    {
        "model": {
            "name": "trade_coalition",
            "description": "",
            "constructs": ["willingness", "pivotal", "deadlock_convergence", "formulation_coordination"],
            "whip_count": "measurement",
            "agenda_control": False,
            "vote_buying": False,
            "covariates": [],
            "floor_expectation": False,
            "party_tilt": "normal",
            "faction_shares": "static",
        },
        "data": {"path": "", "exclude_cases": [], "include_ex_post": False},
        "identification": {"discrimination": 2.0},
        "priors": {
            "faction_deviation_sd": 0.5,
            "type_shift_sd": 0.5,
            "cut_point_mean_sd": 1.5,
            "chamber_sd": 0.5,
            "vote_type_sd": 0.5,
            "case_sd": 0.5,
            "party_tilt_sd": 1.0,
            "tilt_walk_sd": 0.3,
            "case_tilt_sd": 0.5,
            "covariate_sd": 0.5,
            "discrimination_log_sd": 0.5,
            "whip_bias_sd": 6.0,
            "whip_error_median": 6.0,
            "whip_error_log_sd": 0.5,
            "episode_sd": 0.5,
            "effect_sd": 0.5,
            "loading_log_sd": 0.5,
            "indicator_cut_sd": 1.5,
            "faction_share_concentration": 2.0,
            "party_share_concentration": 20.0,
            "overdispersion_log_mean": 4.6,
            "overdispersion_log_sd": 0.5,
            "agenda_bar_sd": 0.02,
            "agenda_scale_median": 0.01,
            "agenda_scale_log_sd": 0.75,
            "agenda_leak_alpha": 1.0,
            "agenda_leak_beta": 9.0,
            # the leak's floor: agenda_leak = floor + (1 - floor) * Beta(alpha, beta) (coalition/agenda.py, "Why the
            # leak has a floor"); 0 is the layer before 2026-12-01, whose posterior is unbounded as the leak goes to 0
            "agenda_leak_floor": 0.001,
            # Student-t vote-level tilt (model.party_tilt = "student_t"): its degrees of freedom (fixed; docs/model_layers.md
            # "Heavy-tailed party tilt")
            "party_tilt_df": 4.0,
            # faction shares by Congress (model.faction_shares = "congress"): the step of each faction's log share
            # ratio to its party's first faction ~ Gamma(2, mean faction_share_walk_sd) per Congress (docs/model_layers.md
            # "Faction shares by Congress": 0.25 lets a 10% faction halve over about four Congresses)
            "faction_share_walk_sd": 0.25,
            # vote buying (coalition/buying.py): P(a one-vote gap is closed) ~ Beta(2, 2), flat-ish and away from
            # 0 and 1; its reach ~ LogNormal(log 1%, 0.75) of those voting (House: a gap of about 4 votes costs a
            # factor e; 95% prior interval 0.2%-4.3%)
            "buying_prob_alpha": 2.0,
            "buying_prob_beta": 2.0,
            "buying_reach_median": 0.01,
            "buying_reach_log_sd": 0.75,
            # pre-vote floor expectation (coalition/expectation.py): the slope per percentage point of the vote's
            # expected margin ~ LogNormal(log 0.5, 0.75): a 5-point margin is eta 2.5 at the median (95% prior
            # interval 0.11-2.2 per point); its two cut-points as the coded indicators' (first N(-1, indicator_cut_sd))
            "expectation_slope_median": 0.5,
            "expectation_slope_log_sd": 0.75,
        },
        "sampler": {
            "sampler": "auto",
            "draws": 1000,
            "tune": 1500,
            "chains": 4,
            "target_accept": 0.9,
            "random_seed": 2000,
            "low_rank_mass_matrix": True,
        },
    }
)


def merge(base: Mapping, override: Mapping, *, where: str = "") -> dict:
    """Deep-merge ``override`` into a copy of ``base``; unknown keys are an error."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if key not in out:
            known = ", ".join(sorted(out))
            raise KeyError(f"unknown spec key '{where}{key}' (known: {known})")
        if isinstance(out[key], Mapping):
            if not isinstance(value, Mapping):
                raise TypeError(f"spec key '{where}{key}' must be a table")
            out[key] = merge(out[key], value, where=f"{where}{key}.")
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_spec(path: str | Path | None = None, **overrides) -> dict:
    """Read a spec TOML (default: the shipped ``trade_coalition.toml``) and merge it over the defaults."""
    spec = merge(_plain(DEFAULT_SPEC), {})
    if path is not None:
        path = Path(path)
        try:
            with path.open("rb") as fh:
                user = tomllib.load(fh)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{path}: not valid TOML: {err}") from None
        spec = merge(spec, user)
        spec["model"].setdefault("name", path.stem)
        spec["_source"] = str(path)
    for section, values in overrides.items():
        spec = merge(spec, {section: values})
    try:
        validate_spec(spec)
    except ValueError as err:
        if path is None:
            raise
        raise ValueError(f"{path}: {err}") from None        # a spec error names its file, like a data error
    return spec


def shipped_spec_path(name: str) -> Path:
    """The path of a spec shipped in ``models/`` (``trade_coalition_v2``: model v2 without the strategic layers)."""
    here = Path(__file__).resolve().parents[1]  # the package root
    for candidate in (here / "_shipped_models", here.parent / "models"):
        if (candidate / f"{name}.toml").is_file():
            return candidate / f"{name}.toml"
    raise FileNotFoundError(f"the shipped spec models/{name}.toml was not found")


def default_spec_path() -> Path:
    """The default spec, ``models/trade_coalition.toml`` (model v2 with agenda control, the floor expectations and
    faction shares by Congress)."""
    return shipped_spec_path("trade_coalition")


def _is_number(value) -> bool:
    """A TOML integer or float (``true``/``false`` are not numbers here, although Python's bool is an int)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_names(model: Mapping, key: str, known, noun: str) -> None:
    """``model.<key>``: a list of distinct names among ``known`` (a bare string is an error, never split into letters)."""
    value = model[key]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value) or len(set(value)) != len(value):
        raise ValueError(f"model.{key} must be a list of distinct names among {list(known)}, got {value!r}")
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ValueError(f"model.{key}: unknown {noun}(s) {unknown} (known: {list(known)})")


def validate_spec(spec: Mapping) -> None:
    """Every value of a merged spec has its type and range, or a ``ValueError`` names the key, what it must be
    and what it got (keys themselves are checked by :func:`merge`)."""
    from bayes_coalition.coalition.rules import COVARIATES
    from bayes_coalition.constants import SAMPLERS
    from bayes_coalition.data.dataset import CONSTRUCTS

    m = spec["model"]
    _check_names(m, "constructs", CONSTRUCTS, "construct")
    _check_names(m, "covariates", COVARIATES, "covariate")
    for key, allowed in (("whip_count", WHIP_COUNT_MODES), ("party_tilt", PARTY_TILT_FORMS),
                         ("faction_shares", FACTION_SHARE_FORMS)):
        if m[key] not in allowed:
            raise ValueError(f"model.{key} must be one of {list(allowed)}, got {m[key]!r}")
    for key in ("agenda_control", "floor_expectation", "vote_buying"):
        if not isinstance(m[key], bool):
            raise ValueError(f"model.{key} must be true or false, got {m[key]!r}")
    if m["vote_buying"] and m["agenda_control"]:
        raise ValueError("model.vote_buying and model.agenda_control cannot both be on: the two layers are not "
                         "combined yet (agenda control would select on the count after buying); choose one")
    for key, value in spec["priors"].items():
        if key == "agenda_leak_floor":
            if not _is_number(value) or not 0 <= value < 1:
                raise ValueError(f"priors.agenda_leak_floor must be a number in [0, 1), got {value!r}")
            continue
        if not _is_number(value) or (value <= 0 and key != "overdispersion_log_mean"):
            what = "a number" if key == "overdispersion_log_mean" else "a positive number"
            raise ValueError(f"priors.{key} must be {what}, got {value!r}")
    s = spec["sampler"]
    if s["sampler"] not in SAMPLERS:
        raise ValueError(f"sampler.sampler must be one of {list(SAMPLERS)}, got {s['sampler']!r}")
    for key in ("draws", "tune", "chains", "random_seed"):
        least = 0 if key in ("tune", "random_seed") else 1
        if not isinstance(s[key], int) or isinstance(s[key], bool) or s[key] < least:
            kind = "a non-negative integer" if least == 0 else "a positive integer"
            raise ValueError(f"sampler.{key} must be {kind}, got {s[key]!r}")
    if not _is_number(s["target_accept"]) or not 0 < s["target_accept"] < 1:
        raise ValueError(f"sampler.target_accept must be a number in (0, 1), got {s['target_accept']!r}")
    if not isinstance(s["low_rank_mass_matrix"], bool):
        raise ValueError(f"sampler.low_rank_mass_matrix must be true or false, got {s['low_rank_mass_matrix']!r}")
    d = spec["data"]
    if not isinstance(d["include_ex_post"], bool):
        raise ValueError(f"data.include_ex_post must be true or false, got {d['include_ex_post']!r}")
    if not isinstance(d["path"], str):
        raise ValueError(f"data.path must be a string (\"\" for the shipped data), got {d['path']!r}")
    if not isinstance(d["exclude_cases"], (list, tuple)) or not all(isinstance(c, str) for c in d["exclude_cases"]):
        raise ValueError(f"data.exclude_cases must be a list of case ids, got {d['exclude_cases']!r}")
    disc = spec["identification"]["discrimination"]
    if not _is_number(disc) or disc <= 0:
        raise ValueError("identification.discrimination must be positive (it fixes the sign and scale of the axis), "
                         f"got {disc!r}")


def spec_hash(spec: Mapping) -> str:
    """A short stable id of the model definition (sampler settings excluded)."""
    core = {k: v for k, v in spec_content(spec).items() if k != "sampler"}
    # keys added after runs were saved enter the id only when set away from their default, so a run
    # saved before a key existed keeps its id (and loads); their default reproduces the old behaviour
    data = dict(core.get("data", {}))
    if data.get("include_ex_post") is False:
        data.pop("include_ex_post")
    core["data"] = data
    if not core.get("model", {}).get("agenda_control", False):
        core["model"] = {k: v for k, v in core.get("model", {}).items() if k != "agenda_control"}
        core["priors"] = {k: v for k, v in core.get("priors", {}).items() if not k.startswith("agenda_")}
    if not core.get("model", {}).get("covariates", []):
        core["model"] = {k: v for k, v in core.get("model", {}).items() if k != "covariates"}
    if not core.get("model", {}).get("vote_buying", False):
        core["model"] = {k: v for k, v in core.get("model", {}).items() if k != "vote_buying"}
        core["priors"] = {k: v for k, v in core.get("priors", {}).items() if not k.startswith("buying_")}
    if not core.get("model", {}).get("floor_expectation", False):
        core["model"] = {k: v for k, v in core.get("model", {}).items() if k != "floor_expectation"}
        core["priors"] = {k: v for k, v in core.get("priors", {}).items() if not k.startswith("expectation_")}
    if core.get("model", {}).get("party_tilt", "normal") == "normal":
        core["model"] = {k: v for k, v in core.get("model", {}).items() if k != "party_tilt"}
        core["priors"] = {k: v for k, v in core.get("priors", {}).items() if k != "party_tilt_df"}
    if core.get("model", {}).get("faction_shares", "static") == "static":
        core["model"] = {k: v for k, v in core.get("model", {}).items() if k != "faction_shares"}
        core["priors"] = {k: v for k, v in core.get("priors", {}).items() if k != "faction_share_walk_sd"}
    if core.get("priors", {}).get("agenda_leak_floor", 0.0) == 0.0:
        # floor 0 is the layer before the key existed (agenda.py): those runs and records keep their ids
        core["priors"] = {k: v for k, v in core.get("priors", {}).items() if k != "agenda_leak_floor"}
    return hashlib.sha256(json.dumps(core, sort_keys=True, default=str).encode()).hexdigest()[:16]


def saved_spec(spec: Mapping) -> dict:
    """The spec stored with a saved run, completed with the values of keys added since that reproduce the model
    it was fitted with: a run saved before ``priors.agenda_leak_floor`` existed had no floor (0), not the
    default's 0.001."""
    spec = dict(spec)
    priors = spec.get("priors")
    if isinstance(priors, Mapping) and "agenda_leak_alpha" in priors and "agenda_leak_floor" not in priors:
        spec["priors"] = {**priors, "agenda_leak_floor": 0.0}
    return spec


def spec_content(spec: Mapping) -> dict:
    """The spec without where it was read from (``_source``): what a stored result depends on."""
    return {k: v for k, v in spec.items() if k != "_source"}


# the fit-length settings of [sampler] that a batch runner (backtest, leave-one-episode-out) replaces by its own
BATCH_OWN_SAMPLER_KEYS = ("draws", "tune", "chains", "random_seed")


def batch_spec_content(spec: Mapping) -> dict:
    """What a batch runner's stored tasks depend on of the spec: :func:`spec_content` less the ``[sampler]`` keys the
    runner sets itself (``BATCH_OWN_SAMPLER_KEYS``: its ``--draws``, ``--tune``, ``--chains`` and ``--seed``), so a
    resumed batch keeps its finished tasks when only the spec's own fit length or seed changed."""
    content = spec_content(spec)
    if "sampler" in content:
        content["sampler"] = {k: v for k, v in content["sampler"].items() if k not in BATCH_OWN_SAMPLER_KEYS}
    return content


def party_tilt_df(spec: Mapping) -> float | None:
    """The degrees of freedom of the vote-level party tilt (``model.party_tilt = "student_t"``), or None for the
    normal tilt: the one reading of the setting for the graph and the predictions."""
    if spec["model"].get("party_tilt", "normal") != "student_t":     # runs saved before the setting: normal
        return None
    return float(spec["priors"].get("party_tilt_df", DEFAULT_SPEC["priors"]["party_tilt_df"]))


def shares_by_congress(spec: Mapping) -> bool:
    """Whether the within-party faction shares walk over Congresses (``model.faction_shares = "congress"``): the one
    reading of the setting for the graph and the predictions (runs saved before the setting: static)."""
    return spec["model"].get("faction_shares", "static") == "congress"


def _plain(m: Mapping) -> dict:
    return {k: _plain(v) if isinstance(v, Mapping) else copy.deepcopy(v) for k, v in m.items()}
