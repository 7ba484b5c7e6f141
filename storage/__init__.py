"""Storage: the tables, the engine and the repositories. The only package that speaks SQL."""
