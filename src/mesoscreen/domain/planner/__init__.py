"""Treatment planning: the head model, scalp zones, injection-point layout, doses and calendar."""
