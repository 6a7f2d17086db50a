"""The coalition model: spec, model data, rules, vote model, PyMC graph, predictive simulation, model class."""
