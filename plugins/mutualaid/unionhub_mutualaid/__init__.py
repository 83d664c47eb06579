"""Workers' mutual-aid programs (互助保障) for UnionHub."""
