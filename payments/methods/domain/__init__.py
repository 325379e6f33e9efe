"""Pure rules of payment methods and autopay: card-number detection and the retry schedule."""
