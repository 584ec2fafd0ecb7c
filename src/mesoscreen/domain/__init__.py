"""The pure domain core of Mesoscreen: screening vocabulary, rules, decisions and planning."""
