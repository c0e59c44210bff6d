"""The fictional sample brand (Kettlebrook), shipped so botkit runs out of the box."""
