"""The screening program's follow-up: referrals, their states, DXA results, and what they teach.

* :mod:`dxa` - WHO categories from DXA T-scores and the checks on a recorded result;
* :mod:`states` - the follow-up states, which moves are allowed, how they read;
* :mod:`referrals` - opening referrals when a batch finishes, changing state, recording DXA;
* :mod:`worklist` - the referral worklist: filters, sorting, pages;
* :mod:`dxa_import` - DXA results from a CSV file, all rows checked before any is applied.
"""
