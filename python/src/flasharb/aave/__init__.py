"""Aave V3 liquidations: market and position records (types), exact health factor and liquidation math
(wadray, health, sizing), discovery of borrowers from the Pool's events, the bulk reader (lens) and the
strategy that turns liquidatable positions into executor plans."""
