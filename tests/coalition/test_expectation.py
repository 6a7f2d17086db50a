"""The pre-vote floor expectation (coalition/expectation.py): the ordered logistic against PyMC's own
OrderedLogistic, hand-computed margins at rule boundaries, the graph's term against a NumPy re-computation on
the shipped data, the switch, and the weights that keep a predicted vote's code out of its fit."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest

from bayes_coalition.coalition import expectation, rules
from bayes_coalition.coalition.graph import build_pymc_model
from bayes_coalition.coalition.model_data import build_model_data
from bayes_coalition.coalition.spec import load_spec, shipped_spec_path, spec_hash
from bayes_coalition.coalition.vote_model import case_row_probability
from bayes_coalition.data.dataset import load_dataset
from bayes_coalition.errors import LeakageError
from bayes_coalition.validation import backtest, loeo


@pytest.mark.parametrize("level", expectation.LEVELS)
def test_level_probability_matches_pymc_ordered_logistic(rng, level) -> None:
    """P(level | eta, cuts) equals PyMC's OrderedLogistic (an independent implementation), and the three
    levels' probabilities sum to 1."""
    eta = rng.normal(0.0, 3.0, 50)
    first = rng.normal(-1.0, 1.0, 50)
    cuts = np.stack([first, first + rng.lognormal(np.log(2.0), 0.5, 50)], axis=-1)
    ref = np.exp(pm.logp(pm.OrderedLogistic.dist(eta=eta, cutpoints=cuts), np.full(50, level)).eval())
    np.testing.assert_allclose(expectation.level_probability(np, level, eta, cuts), ref, rtol=1e-10)
    np.testing.assert_allclose(expectation.level_probabilities(np, eta, cuts).sum(axis=-1), 1.0, atol=1e-12)


@pytest.mark.parametrize(("yea", "n", "rule", "chamber", "margin"), [
    (217, 432, "majority_of_voting", "House", 100 * 0.5 / 432),        # CAFTA: 217 of 432, one more than half
    (180, 423, "majority_of_voting", "House", 100 * (180 - 211.5) / 423),   # fast-track 1998: 212 needed
    (60, 97, "three_fifths_of_senate", "Senate", 100 * 0.5 / 97),      # cloture at exactly 60
    (59, 97, "three_fifths_of_senate", "Senate", -100 * 0.5 / 97),     # one short
])
def test_margin_at_rule_boundaries(yea, n, rule, chamber, margin) -> None:
    """The margin is (count - (threshold - 1/2)) / those voting, in points: +-1/2 vote at the line."""
    thr = rules.votes_needed(rule, chamber, n)
    assert expectation.margin(float(yea), thr, n) == pytest.approx(margin, rel=1e-12)


@pytest.fixture(scope="module")
def expectation_model() -> dict:
    md = build_model_data(load_dataset(), floor_expectation=True)
    spec = load_spec(shipped_spec_path("trade_coalition_v2"), model={"floor_expectation": True})
    model = build_pymc_model(md, spec)
    names = ["floor_expectation", "cut_point", "party_tilt", "ideal_point", "faction_share", "discrimination",
             "expectation_slope", "expectation_cuts"]
    outs = model.replace_rvs_by_values([model[n] for n in names])
    fn = model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore")
    return {"md": md, "spec": spec, "model": model, "fn": fn, "names": names}


def test_shipped_codes_enter_for_their_votes(expectation_model) -> None:
    """40 coded votes (data/floor_expectations.csv), every one a counted roll call; CAFTA's House vote 'in doubt',
    the 2000 China disapproval 'expected to fail' (the one level-0 code)."""
    md = expectation_model["md"]
    case = [md.coords["case"][c] for c in md.expect_case_idx]
    assert len(case) == 40 and len(set(case)) == 40
    assert md.expect_level[case.index("cafta_h")] == 1 and md.expect_level[case.index("korea_s")] == 2
    assert md.expect_level[case.index("chinantr2000_h")] == 0
    assert "ft1997_h_whip" not in case


def _reference(md, v) -> float:
    """sum log P(level_v | slope * margin_v), margin_v from the vote's own count rows (NumPy, row by row with
    case_row_probability: polarity and two-party rows included) and P from PyMC's OrderedLogistic."""
    eta = []
    for c in md.expect_case_idx:
        o, i = np.flatnonzero(md.obs_case_idx == c), np.flatnonzero(md.int_case_idx == c)
        group = np.concatenate([md.obs_group_idx[o], md.int_group_idx[i]])
        mix = np.concatenate([md.mix_obs_idx[o], md.mix_int_idx[i]])
        n = np.concatenate([md.obs_n[o], md.int_n[i]]).astype(float)
        p = case_row_probability(np, cut_point=v["cut_point"], party_tilt=v["party_tilt"], md=md,
                                 case_idx=np.full(len(n), c), group_idx=group, mix_idx=mix,
                                 faction_position=v["ideal_point"][md.faction_actor_idx], faction_share=v["faction_share"],
                                 mix_share=md.mix_share, discrimination=v["discrimination"])
        chamber = ("House", "Senate")[md.case_chamber_idx[c]]
        thr = rules.votes_needed(md.case_threshold[c], chamber, int(n.sum()))
        eta.append(float(v["expectation_slope"]) * 100 * ((n * p).sum() - thr + 0.5) / n.sum())
    eta = np.array(eta)
    assert np.ptp(eta) > 1.0           # an informative point: the votes' margins differ
    return float(pm.logp(pm.OrderedLogistic.dist(eta=eta, cutpoints=v["expectation_cuts"]), md.expect_level).eval().sum())


def _values(model, names, seed):
    fn = model.compile_fn(model.replace_rvs_by_values([model[n] for n in names]), inputs=model.value_vars,
                          on_unused_input="ignore")
    rng = np.random.default_rng(seed)
    point = {k: v + rng.normal(0.0, 0.3, size=np.shape(v)) for k, v in model.initial_point().items()}
    return dict(zip(names, fn(point)))


@pytest.mark.parametrize("seed", (0, 1))
def test_term_matches_a_numpy_reference(expectation_model, seed) -> None:
    """The graph's term on the shipped codes against the NumPy re-computation."""
    v = dict(zip(expectation_model["names"], _values(expectation_model["model"], expectation_model["names"], seed).values()))
    assert float(v["floor_expectation"]) == pytest.approx(_reference(expectation_model["md"], v), rel=1e-9)


def test_term_on_a_disapproval_vote_and_a_two_party_total(data_copy) -> None:
    """No shipped code is on an anti-trade motion or a vote counted only as a two-party total: with a code added for
    the 1998 disapproval resolution (its yea side anti-trade) and CAFTA's House party rows replaced by their total,
    the term still equals the reference (the margin is the motion's, counted with the Congress's composition)."""
    with (data_copy / "floor_expectations.csv").open("a") as fh:
        fh.write('chinamfn1998_h,0,http://example.org/x,Test outlet,1998-07-20,"expected to be rejected",test row,coder_a,agree\n')
    counts = data_copy / "vote_counts.csv"
    lines = counts.read_text().splitlines(keepends=True)
    counts.write_text("".join(ln for ln in lines if not (ln.split(",")[0] == "cafta_h" and ln.split(",")[1] in ("R", "D"))))
    md = build_model_data(load_dataset(data_copy), floor_expectation=True)
    case = [md.coords["case"][c] for c in md.expect_case_idx]
    assert "chinamfn1998_h" in case and md.case_polarity[md.expect_case_idx[case.index("chinamfn1998_h")]] == -1
    assert (md.mix_obs_idx[md.obs_case_idx == md.expect_case_idx[case.index("cafta_h")]] >= 0).any()
    model = build_pymc_model(md, load_spec(shipped_spec_path("trade_coalition_v2"), model={"floor_expectation": True}))
    names = ["floor_expectation", "cut_point", "party_tilt", "ideal_point", "faction_share", "discrimination",
             "expectation_slope", "expectation_cuts"]
    v = _values(model, names, 3)
    assert float(v["floor_expectation"]) == pytest.approx(_reference(md, v), rel=1e-9)


def test_switched_off_leaves_no_trace(expectation_model) -> None:
    """Off (the default): no expectation parameters, no term, no index arrays, and the model id of the default spec."""
    on = expectation_model["model"]
    md_off = build_model_data(load_dataset())
    off = build_pymc_model(md_off, load_spec(shipped_spec_path("trade_coalition_v2")))
    assert {r.name for r in on.free_RVs} - {r.name for r in off.free_RVs} == {
        "expectation_slope", "expectation_first_cut", "expectation_cut_gap"}
    assert {p.name for p in on.potentials} - {p.name for p in off.potentials} == {"floor_expectation"}
    assert len(md_off.expect_case_idx) == 0 and not any("expectation" in n for n in off.named_vars)
    default = load_spec(shipped_spec_path("trade_coalition_v2"))
    assert spec_hash(default) == spec_hash(load_spec(shipped_spec_path("trade_coalition_v2"), model={"floor_expectation": False}))
    assert spec_hash(default) != spec_hash(expectation_model["spec"])


def test_without_the_table_the_switch_is_an_error(data_copy) -> None:
    (data_copy / "floor_expectations.csv").unlink()
    with pytest.raises(ValueError, match="no floor_expectations.csv"):
        build_model_data(load_dataset(data_copy), floor_expectation=True)


def test_a_predicted_vote_never_sees_its_own_code(expectation_model) -> None:
    """Backtest: a vote's code has the weight of its rows (0 at an origin on or before the vote), and the leakage
    guard refuses a code weighted in for a vote dated on or after the origin; LOEO: the left-out episode's codes
    are out of the fit and out of the held-out score. With every weight 0 the term is exactly 0."""
    md = expectation_model["md"]
    cases = load_dataset().cases
    w = backtest.training_weights(md, cases, "2005-07-28")
    dates = cases.set_index("case_id").loc[md.coords["case"], "date"].astype(str).to_numpy()
    np.testing.assert_array_equal(w["expectation_weight"], (dates[md.expect_case_idx] < "2005-07-28").astype(float))
    case = [md.coords["case"][c] for c in md.expect_case_idx]
    assert w["expectation_weight"][case.index("cafta_h")] == 0 and w["expectation_weight"][case.index("cafta_s")] == 1
    backtest.check_no_leakage(md, cases, w, "2005-07-28")
    w["expectation_weight"][case.index("cafta_h")] = 1.0
    with pytest.raises(LeakageError, match="cafta_h"):
        backtest.check_no_leakage(md, cases, w, "2005-07-28")
    out = loeo.leave_out_weights(md, "cafta2005")["expectation_weight"]
    assert out[case.index("cafta_h")] == 0 and out[case.index("cafta_s")] == 0 and out.sum() == len(case) - 2
    assert loeo.held_out_weights(md, "cafta2005")["expectation_weight"].sum() == 0
    weighted = build_pymc_model(md, expectation_model["spec"], weighted=True)
    fn = weighted.compile_fn(weighted.replace_rvs_by_values([weighted["floor_expectation"]]),
                             inputs=weighted.value_vars, on_unused_input="ignore")
    point = weighted.initial_point()
    assert float(fn(point)[0]) != 0.0
    weighted["expectation_weight"].set_value(np.zeros(len(case)))
    assert float(fn(point)[0]) == 0.0


def test_case_bill_uses_a_code_only_when_dated_before_the_forecast() -> None:
    """A vote's code is its bill's floor_expectation (chamber -> level) when its source predates the forecast day."""
    ds = load_dataset()
    assert backtest.case_floor_expectation(ds, "cafta_h") == {"House": 1}               # source 2005-07-27
    assert backtest.case_floor_expectation(ds, "cafta_h", as_of="2005-07-27") == {}     # not strictly before
    assert backtest.case_bill(ds, "korea_s").floor_expectation == {"Senate": 2}
    assert backtest.case_bill(ds, "ft1998_h").floor_expectation == {}                   # no pre-vote source found
