"""The ``bayes-coalition`` command line: ``bayes_coalition.cli.main:main`` (the console script's target;
``python -m bayes_coalition.cli`` runs it too).

Nothing is imported here, so that ``python -m bayes_coalition.cli.main`` does not import the module it is about
to run (runpy's "found in sys.modules" warning), and the name ``main`` means one thing: the submodule."""
