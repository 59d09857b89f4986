//! Core of the Didomi ⇄ HubSpot sync app (placeholder; being written).
