"""Invented word lists for the seed generator: topics, outlets, places, headline templates.

Nothing here comes from real seeds."""

TOPICS = {  # topic: (URL section, things a story on it is about)
    "AI": ("technology", ["AI chatbots", "machine learning tools"]),
    "Computer Vision": ("technology", ["facial recognition cameras", "image search tools"]),
    "Natural Language Processing": ("technology", ["automatic translation", "voice assistants"]),
    "Robotics": ("technology", ["delivery robots", "warehouse robots"]),
    "Cybersecurity": ("technology", ["password rules", "bug bounty schemes"]),
    "Privacy": ("technology", ["location tracking", "data sharing deals"]),
    "Cloud Computing": ("technology", ["data centres", "cloud contracts"]),
    "Semiconductors": ("business", ["chip plants", "chip export licences"]),
    "Electric Vehicles": ("business", ["charging stations", "electric bus fleets"]),
    "Renewable Energy": ("business", ["offshore wind farms", "rooftop solar grants"]),
    "Climate": ("science", ["flood defences", "carbon targets"]),
    "Space": ("science", ["spaceports", "lunar missions"]),
    "Public Health": ("health", ["walk-in clinics", "sugar taxes"]),
    "AI in Healthcare": ("health", ["AI cancer screening", "remote patient monitoring"]),
    "Education": ("local", ["free school meals", "four-day school weeks"]),
    "Housing": ("local", ["rent caps", "modular homes"]),
    "Transport": ("local", ["congestion charges", "night buses"]),
    "Elections": ("politics", ["electronic voting machines", "postal ballots"]),
    "Policing": ("politics", ["body cameras", "drone patrols"]),
    "Trade": ("business", ["import tariffs", "customs checks"]),
    "Banking": ("business", ["branch closures", "instant payments"]),
    "Retail": ("business", ["self-checkout tills", "loyalty schemes"]),
    "Agriculture": ("business", ["vertical farms", "pesticide limits"]),
    "Telecoms": ("technology", ["5G masts", "rural broadband"]),
    "Aviation": ("business", ["night flights", "airport expansions"]),
    "Tourism": ("travel", ["tourist taxes", "cruise ship limits"]),
    "Fintech": ("business", ["buy-now-pay-later loans", "crypto kiosks"]),
    "Football": ("sport", ["stadium upgrades", "ticket price caps"]),
}
ACTIONS = [  # (to-infinitive, third person, noun phrase)
    ("roll out {}", "rolls out {}", "rollout of {}"),
    ("ban {}", "bans {}", "ban on {}"),
    ("trial {}", "trials {}", "trial of {}"),
    ("expand {}", "expands {}", "expansion of {}"),
    ("pause {}", "pauses {}", "pause on {}"),
    ("scrap {}", "scraps {}", "plan to scrap {}"),
    ("review {}", "reviews {}", "review of {}"),
    ("fund {}", "funds {}", "funding for {}"),
    ("restrict {}", "restricts {}", "limits on {}"),
    ("launch {}", "launches {}", "launch of {}"),
    ("overhaul {}", "overhauls {}", "overhaul of {}"),
    ("invest in {}", "invests in {}", "investment in {}"),
]
HEADLINES = [  # every one names the actor, so stories with distinct actors never collide
    "{actor} to {act} in {place}",
    "{actor} {acts} in {place}",
    "{actor} plans to {act}, report says",
    "Why {actor} wants to {act}",
    "{place} residents react as {actor} {acts}",
    "What {actor_s} {noun} means for {place}",
    "{actor} confirms {noun} after months of talks",
    "Critics question {actor_s} {noun}",
    "{actor} defends decision to {act}",
    "Inside {actor_s} push to {act}",
    "{place} officials welcome {actor_s} {noun}",
    "Explainer: {actor_s} {noun} in {place}",
    "{actor} {acts} amid growing scrutiny",
    "“A turning point”: {actor} {acts}",
    "{actor_s} {noun} faces legal challenge in {place}",
    "Analysts split over {actor_s} {noun}",
    "{actor} delays {noun} until {month}",
    "Live updates: {actor} {acts} in {place}",
    "{actor} says it will {act} by {month}",
    "How {actor_s} {noun} could change {place}",
    "Unions push back on {actor_s} plan to {act}",
    "{actor} — {noun} — {place}: what we know so far",
    "{n} things to know about {actor_s} {noun}",
    "Opinion: {actor} is right to {act}",
    "Is {place} ready for {actor_s} {noun}?",
    "{actor} boss: “We had to {act}”",
    'Q&A: {actor} on the "{noun}" debate',
    "{actor} quietly {acts} in {place}",
]
FOREIGN_HEADLINES = [
    "{actor}、{place}で新たな計画を発表",
    "{actor}在{place}宣布新计划",
    "{actor} объявила о новом плане в {place}",
    "{actor}: νέο σχέδιο για {place}",
    "{actor} تعلن عن خطة جديدة في {place}",
    "{actor} ने {place} में नई योजना की घोषणा की",
    "{actor}, {place}에서 새 계획 발표",
]
EXCERPT_SENTENCES = [
    "{actor} said on {weekday} it would {act} in {place}, the latest step in a plan first floated {when}.",
    "The {noun} would cost about {money} and affect roughly {count} people, officials said.",
    "Critics, including {critic}, argued the move was rushed and called for an independent review.",
    "Supporters say the change will make services faster and cheaper; opponents warn of {risk}.",
    "A spokesperson for {actor} declined to comment on the timetable.",
    "{place} has seen similar proposals before, but none got this far.",
    "The decision follows a {weeks}-week consultation that drew more than {count} responses.",
    "“We have listened carefully,” one official said; details would follow “in the coming weeks”.",
    "It’s the second time this year that {actor} has changed course — and probably not the last.",
    "Internal documents seen by reporters put the first phase at {money}.",
]
RARE_SENTENCES = [  # scraped excerpts sometimes carry these: data, never markup or paths to open
    "Court papers are filed under {place}\\{weeks}\\{count}, a clerk said.",
    "Readers were told to <b>update</b> their apps <script>track()</script> before {month}.",
    "The hashtag #{actor_tag} trended for hours 🚀 after the announcement.",
]
REWORDINGS = {
    "plans": "aims",
    "wants": "hopes",
    "defends": "stands by",
    "confirms": "announces",
    "Critics": "Opponents",
    "question": "challenge",
    "welcome": "praise",
    "push": "drive",
    "growing": "mounting",
    "delays": "postpones",
    "says": "said",
    "could": "may",
    "things": "facts",
    "react": "respond",
    "right": "wise",
    "split": "divided",
    "ready": "prepared",
    "faces": "hit by",
    "roll out": "deploy",
    "rolls out": "deploys",
    "rollout": "roll-out",
    "ban": "bar",
    "bans": "bars",
    "trial": "test",
    "trials": "tests",
    "expand": "extend",
    "expands": "extends",
    "pause": "halt",
    "pauses": "halts",
    "scrap": "axe",
    "scraps": "axes",
    "review": "audit",
    "reviews": "audits",
    "fund": "back",
    "funds": "backs",
    "restrict": "limit",
    "restricts": "limits",
    "launch": "debut",
    "launches": "debuts",
    "overhaul": "revamp",
    "overhauls": "revamps",
    "invest in": "put money into",
    "invests in": "puts money into",
}
PUNCTUATION_SWAPS = [(": ", " - "), ("’", "'"), (" — ", " - "), ("“", '"'), ("”", '"'), ("?", "")]
PLACES = [
    place.replace("_", " ")
    for place in (
        "London Paris Lagos Nairobi Mumbai Jakarta Manila Seoul Osaka Lima Toronto Denver Austin "
        "Leeds Glasgow Dublin Cork Lyon Porto Seville Turin Tallinn Accra Kigali Cairo Dubai "
        "Karachi Dhaka Hanoi Perth Auckland Adelaide Calgary Halifax Phoenix Detroit Boston Oslo "
        "São_Paulo Zürich Kraków Montréal Reykjavík Malmö Düsseldorf Bogotá Córdoba Gdańsk "
        "Łódź Cape_Town"
    ).split()
]
COMPANY_STARTS = (
    "Ar Bel Cor Dax El Fen Gal Hex Io Jun Kel Lum Mar Nor Orb Pax Quin Ros Sol Tal Ul Ver Wex Xan Yor Zen"
).split()
COMPANY_ENDS = "ix ant ara is ent ora ium lyx via wave ode".split()
COMPANY_KINDS = [
    "",
    " Labs",
    " Systems",
    " Health",
    " Motors",
    " Bank",
    " Energy",
    " Robotics",
    " Networks",
    " Group",
    " AI",
]
OUTLET_PREFIXES = (
    "Daily Metro Northern Coastal Capital Pacific Atlantic Evening Morning Global Civic "
    "Frontier Summit Valley Harbor Prairie Union Citizen Sunday Midland"
).split()
OUTLET_SUFFIXES = (
    "Herald Times Post Chronicle Wire Ledger Review Journal Gazette Observer Insider "
    "Dispatch Bulletin Tribune Report"
).split()
TLDS = [".com"] * 7 + [".co.uk", ".net", ".org", ".com.au", ".ie", ".ca", ".in", ".news"]
PATH_STYLES = [
    "/news/{slug}/",
    "/{section}/{yyyy}/{mm}/{slug}/{id}/",
    "/{section}/{slug}-{id}",
    "/{yyyy}/{mm}/{dd}/{slug}.html",
    "/article/{id}/{slug}",
    "/{section}/{slug}?id={id}",
]
AMP_STYLES = ["segment", "suffix", "html", "trailing", "query", "output"]
TRACKING_QUERIES = [
    "utm_source=twitter&utm_medium=social&utm_campaign=echobox",
    "utm_source=newsletter&utm_medium=email",
    "utm_source=feedburner&utm_medium=feed&utm_campaign=Feed%3A+topstories",
    "fbclid=IwAR0{hex}",
    "gclid=Cj0KCQjw{hex}",
    "at_medium=RSS&at_campaign=rss",
    "mc_cid={hex}&mc_eid={hex}",
    "ocid=msedgntp",
]
CATEGORIES = ["news"] * 17 + ["business", "technology", "science"]
LANGUAGES = ["en", "en", "en-GB", "fr", "de", "ja", "no"]  # "no" must come back a string, not false
INGEST_FLAGS = ["late", "embargo-lifted", "wire", "rewrite", "paywalled"]
CRITICS = [
    "privacy campaigners",
    "opposition lawmakers",
    "the local chamber of commerce",
    "consumer groups",
    "civil liberties groups",
    "trade unions",
]
RISKS = ["higher bills", "job losses", "mission creep", "data leaks", "longer waits"]
WHENS = ["last spring", "in 2021", "two years ago", "before the election", "in January"]
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
MONTHS = "January March June September November".split()
EMOJI = ["🔴", "🚨", "📈", "🌍", "⚡"]
IMAGE_SIZES = [(1200, 675), (1200, 630), (400, 400), (1500, 842), (580, 387), (1280, 720), (800, 450)]
IMAGE_HOSTS = ["cdn", "images", "static", "media", "img"]
IMAGE_NAMES = ["open-graph.jpg", "image.jpg", "hero.jpg", "lead.jpg?width=1200&format=jpeg"]
SECURED_BYTES = [224, 240, 256, 272, 400, 400, 400]  # base64 lengths 300..536, like real payloads
MARKDOWN_BODY = (
    "## Desk notes\n\n{actor} confirmed the {noun} in a statement. Check the figures "
    "against the **{place}** briefing before approving.\n\n"
    "- Source: [{domain}](https://{domain}/)\n- Status: _waiting for a second outlet_\n"
)
