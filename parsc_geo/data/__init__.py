"""Data tables shipped with parsc-geo (taxonomy, Código Penal penalties)."""
