"""UnionHub portal plugin (门户网站 + 微网站)."""
