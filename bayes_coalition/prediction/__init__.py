"""Hypothetical bills: the bill schema, prediction on stored draws, drivers, coalition analytics."""
