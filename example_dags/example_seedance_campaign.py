"""What it shows: drafts, a gallery, review with re-render notes, a budget, a release, in one part.
What it needs: a seedance_default connection (on BytePlus ModelArk for drafts) and a triggerer."""

from airflow.sdk import dag

from airflow_provider_seedance.campaign import Budget, Review, SeedanceCampaign

PRO = "seedance-1-5-pro-251215"  # Seedance 1.5 pro on BytePlus ModelArk renders 480p drafts first
TAKES = [
    {"name": "flask", "model": PRO, "prompt": "Steam rising from a black flask on a frosty summit.", "duration": 5},
    {"name": "pack", "model": PRO, "prompt": "A teal backpack on a ridge above the clouds.", "duration": 5},
]


@dag(schedule=None, tags=["example", "seedance"])
def example_seedance_campaign():
    SeedanceCampaign(
        takes=TAKES,  # or an upstream task's output
        name="spring-launch",
        budget=Budget(max_credits=250_000, credits_per_second=10_000),  # ModelArk credits: tokens
        review=Review(rounds=1, hours=24),
    )


example_seedance_campaign()
