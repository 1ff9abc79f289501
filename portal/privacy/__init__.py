"""Personal data (152-ФЗ): consents, the published policy, the person's rights, retention."""
