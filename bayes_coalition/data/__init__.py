"""Data: schema-checked tables, the trade data set, roll-call matrices."""
