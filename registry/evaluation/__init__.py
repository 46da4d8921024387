"""亩均论英雄: per-mu efficiency evaluation of enterprises by versioned, sourced rule sets."""
