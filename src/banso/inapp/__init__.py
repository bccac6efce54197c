"""In-app messages: sites with public keys, announcements, NPS prompts, the snippet."""
