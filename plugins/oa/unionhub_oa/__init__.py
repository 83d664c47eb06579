"""UnionHub OA plugin (办公自动化)."""
