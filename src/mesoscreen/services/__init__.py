"""Use cases: screen, plan, record. They depend on the domain and on ports, never on adapters."""
