"""Segment files for people and platforms (SMS, e-mail, Meta, Google, Mailchimp)."""
