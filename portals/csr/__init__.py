"""CSR portal (:9002): customer-service agents see the customer 360 and work cases and tickets."""
