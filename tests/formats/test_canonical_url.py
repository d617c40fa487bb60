"""canonical_url: which pairs of news links are the same article, and which only look alike."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import REAL_SEED
from webapp.formats.canonical_url import canonical_url
from webapp.formats.seeds import parse

SAME, DIFFERENT = True, False

FOX = "https://www.foxnews.com/tech/stores-spying-using-creepy-facial-recognition-technology-without-consent"
BBC = "https://www.bbc.co.uk/news/uk-england-london-67149222"
GUARDIAN = "https://www.theguardian.com/technology/2023/may/02/geoffrey-hinton-godfather-of-ai-quits-google-warns-dangers-of-machine-learning"
GUARDIAN_AMP = "https://amp-theguardian-com.cdn.ampproject.org/c/s/amp.theguardian.com/technology/2023/may/02/geoffrey-hinton-godfather-of-ai-quits-google-warns-dangers-of-machine-learning"

PAIRS = [
    # The product owner's seed (seeds/000_153b8be9e8e41660.txt).
    (FOX, FOX + ".amp", SAME),
    (
        FOX,
        "https://www-foxnews-com.cdn.ampproject.org/c/s/www.foxnews.com/tech/stores-spying-using-creepy-facial-recognition-technology-without-consent.amp",
        SAME,
    ),
    (
        FOX + ".amp",
        "https://www-foxnews-com.cdn.ampproject.org/c/s/www.foxnews.com/tech/stores-spying-using-creepy-facial-recognition-technology-without-consent.amp",
        SAME,
    ),
    (
        "https://www.nextgov.com/digital-government/2023/10/logingov-add-facial-recognition-tech/391300/",
        "https://www.govexec.com/technology/2023/10/logingov-add-facial-recognition-tech/391307/",
        DIFFERENT,
    ),
    (BBC + "?at_medium=RSS&at_campaign=KARANGA", BBC, SAME),
    # The real corpus (../shared/real-seeds): feed URLs against their AMP and AMP-cache forms.
    (
        BBC + "?at_medium=RSS&at_campaign=KARANGA",
        "https://www-bbc-co-uk.cdn.ampproject.org/c/s/www.bbc.co.uk/news/uk-england-london-67149222.amp",
        SAME,
    ),
    (
        "https://www.bbc.com/news/uk-england-london-67149222",
        "https://www-bbc-com.cdn.ampproject.org/c/s/www.bbc.com/news/uk-england-london-67149222.amp",
        SAME,
    ),
    ("https://www.bbc.com/news/uk-england-london-67149222", BBC, DIFFERENT),
    (
        "https://www.computerweekly.com/feature/How-Pegasystems-is-capturing-the-Fortune-500",
        "https://www-computerweekly-com.cdn.ampproject.org/c/s/www.computerweekly.com/feature/How-Pegasystems-is-capturing-the-Fortune-500?amp=1",
        SAME,
    ),
    (
        "https://abcnews.go.com/Business/wireStory/cities-states-balk-face-recognition-tech-67783126",
        "https://abcnews-go-com.cdn.ampproject.org/c/s/abcnews.go.com/amp/Business/wireStory/cities-states-balk-face-recognition-tech-67783126",
        SAME,
    ),
    (
        "https://www.business2community.com/business-innovation/ai-skills-among-the-most-in-demand-for-2020-02268707",
        "https://www.business2community.com/business-innovation/ai-skills-among-the-most-in-demand-for-2020-02268707/amp",
        SAME,
    ),
    (
        "https://medicalxpress.com/news/2019-12-artificial-intelligence-tracks-leukemia.amp",
        "https://medicalxpress-com.cdn.ampproject.org/c/s/medicalxpress.com/news/2019-12-artificial-intelligence-tracks-leukemia.amp",
        SAME,
    ),
    (
        "https://www.forbes.com/sites/mnunez/2019/12/20/facebook-removes-hundreds-of-fake-pro-trump-accounts-using-ai-generated-profile-photos/",
        "https://www-forbes-com.cdn.ampproject.org/c/s/www.forbes.com/sites/mnunez/2019/12/20/facebook-removes-hundreds-of-fake-pro-trump-accounts-using-ai-generated-profile-photos/amp/",
        SAME,
    ),
    (
        "https://www.washingtonpost.com/technology/2019/12/19/federal-study-confirms-racial-bias-many-facial-recognition-systems-casts-doubt-their-expanding-use/",
        "https://www-washingtonpost-com.cdn.ampproject.org/c/s/www.washingtonpost.com/technology/2019/12/19/federal-study-confirms-racial-bias-many-facial-recognition-systems-casts-doubt-their-expanding-use/?outputType=amp",
        SAME,
    ),
    (
        "https://www.chicagotribune.com/consumer-reviews/sns-facial-recognition-bias-20191226-cldfnnmqbzf6lp5w622jnw7oga-story.html",
        "https://www.chicagotribune.com/consumer-reviews/sns-facial-recognition-bias-20191226-cldfnnmqbzf6lp5w622jnw7oga-story.html?outputType=amp",
        SAME,
    ),
    (
        "https://www.pressdemocrat.com/business/10505019-181/facebook-twitter-disable-sprawling-inauthentic",
        "https://www-pressdemocrat-com.cdn.ampproject.org/c/s/www.pressdemocrat.com/business/10505019-181/facebook-twitter-disable-sprawling-inauthentic?view=AMP",
        SAME,
    ),
    (
        "https://www.scmp.com/tech/big-tech/article/3043186/facebook-says-group-used-ai-generated-faces-push-pro-trump-anti",
        "https://amp-scmp-com.cdn.ampproject.org/c/s/amp.scmp.com/tech/big-tech/article/3043186/facebook-says-group-used-ai-generated-faces-push-pro-trump-anti",
        SAME,
    ),
    (
        "https://www.deccanchronicle.com/lifestyle/health-and-wellbeing/261219/artificial-intelligence-can-now-track-down-blood-cancer.html",
        "https://www-deccanchronicle-com.cdn.ampproject.org/c/s/www.deccanchronicle.com/amp/lifestyle/health-and-wellbeing/261219/artificial-intelligence-can-now-track-down-blood-cancer.html",
        SAME,
    ),
    (
        "https://www.medindia.net/news/artificial-intelligence-that-tracks-down-leukemia-discovered-192212-1.htm",
        "https://www.medindia.net/amp/news/artificial-intelligence-that-tracks-down-leukemia-discovered-192212-1.htm",
        SAME,
    ),
    (
        "https://health.economictimes.indiatimes.com/news/diagnostics/artificial-intelligence-tracks-down-acute-myeloid-leukaemia/72974624",
        "https://health-economictimes-indiatimes-com.cdn.ampproject.org/c/s/health.economictimes.indiatimes.com/amp/news/diagnostics/artificial-intelligence-tracks-down-acute-myeloid-leukaemia/72974624",
        SAME,
    ),
    (
        "https://www.jagranjosh.com/general-knowledge/concerns-raised-by-godfather-of-artificial-intelligence-geoffrey-hinton-1683294636-1",
        "https://www.jagranjosh.com/general-knowledge/amp/concerns-raised-by-godfather-of-artificial-intelligence-geoffrey-hinton-1683294636-1",
        SAME,
    ),
    (
        "https://www.firstpost.com/world/met-police-using-facial-recognition-to-catch-most-frequent-shoplifters-in-london-13270192.html",
        "https://www-firstpost-com.cdn.ampproject.org/c/s/www.firstpost.com/world/met-police-using-facial-recognition-to-catch-most-frequent-shoplifters-in-london-13270192.html/amp",
        SAME,
    ),
    (
        "https://news.sky.com/story/met-police-roll-out-facial-recognition-technology-to-tackle-londons-worst-shoplifters-12987133",
        "https://news.sky.com/story/amp/met-police-roll-out-facial-recognition-technology-to-tackle-londons-worst-shoplifters-12987133",
        SAME,
    ),
    (
        "https://www.thesun.co.uk/tech/22221880/ai-geoffrey-hinton-quits-google/",
        "https://www-thesun-co-uk.cdn.ampproject.org/c/s/www.thesun.co.uk/tech/22221880/ai-geoffrey-hinton-quits-google/amp/",
        SAME,
    ),
    (
        "https://www.technologyreview.com/2023/05/01/1072478/deep-learning-pioneer-geoffrey-hinton-quits-google/",
        "https://www.technologyreview.com/2023/05/03/1072589/video-geoffrey-hinton-google-ai-risk-ethics/amp/",
        DIFFERENT,
    ),
    (GUARDIAN + "?ref=upstract.com", GUARDIAN_AMP, SAME),
    (GUARDIAN + "?trk=public_post_comment-text", GUARDIAN + "?ref=upstract.com", SAME),
    # Scheme, host case, port, credentials, fragment, trailing slash.
    ("https://example.com", "https://example.com/", SAME),
    ("http://example.com/a", "https://example.com/a", SAME),
    ("HTTPS://EXAMPLE.COM/a", "https://example.com/a", SAME),
    ("https://example.com:443/a", "http://example.com:80/a", SAME),
    ("https://example.com:8443/a", "https://example.com/a", DIFFERENT),
    ("https://editor:secret@example.com/a", "https://example.com/a", SAME),
    ("https://example.com./a", "https://example.com/a", SAME),
    ("https://example.com/a#comments", "https://example.com/a", SAME),
    ("https://example.com/a///", "https://example.com/a", SAME),
    ("https://example.com/a//b", "https://example.com/a/b", DIFFERENT),
    ("https://example.com/a", "https://example.com/A", DIFFERENT),
    ("https://example.com/a", "https://example.org/a", DIFFERENT),
    # Host prefixes: www, m, mobile, amp, only as a whole leftmost label and only with a dot left.
    ("https://m.example.com/a", "https://www.example.com/a", SAME),
    ("https://mobile.example.com/a", "https://amp.example.com/a", SAME),
    ("https://news.bbc.co.uk/a", "https://bbc.co.uk/a", DIFFERENT),
    ("https://www2.example.com/a", "https://example.com/a", DIFFERENT),
    ("https://m.co/a", "https://co/a", DIFFERENT),
    ("https://www.m.co/a", "https://m.co/a", SAME),
    ("https://ampere.com/a", "https://amp.ere.com/a", DIFFERENT),
    ("https://ampere.com/a", "https://www.ampere.com/a", SAME),
    ("https://BÜCHER.example/a", "https://bücher.example/a", SAME),
    ("https://xn--bcher-kva.example/a", "https://bücher.example/a", DIFFERENT),
    # Query: tracking parameters go, every other parameter stays, order does not matter.
    ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2", SAME),
    ("https://example.com/a?id=1", "https://example.com/a?id=2", DIFFERENT),
    ("https://example.com/a?utm_source=x&utm_medium=y&utm_campaign=z", "https://example.com/a", SAME),
    ("https://example.com/a?UTM_Source=x&Fbclid=IwAR0", "https://example.com/a", SAME),
    ("https://example.com/a?page=2&gclid=x&msclkid=y", "https://example.com/a?page=2", SAME),
    ("https://example.com/a?page=2&utm_source=x", "https://example.com/a?page=3", DIFFERENT),
    ("https://example.com/a?CMP=share_btn_tw&smid=nytcore-ios-share&ito=792", "https://example.com/a", SAME),
    (
        "https://example.com/a?mc_cid=1&mc_eid=2&ocid=msedgntp&cmpid=3&xtor=RSS-1",
        "https://example.com/a",
        SAME,
    ),
    (
        "https://example.com/a?guccounter=1&guce_referrer=aHR0&guce_referrer_sig=AQAA",
        "https://example.com/a",
        SAME,
    ),
    (
        "https://example.com/a?itm_source=x&at_custom1=y&at_custom4=z&__twitter_impression=true",
        "https://example.com/a",
        SAME,
    ),
    ("https://example.com/a?ref=x", "https://example.com/a", SAME),
    ("https://example.com/a?reference=x", "https://example.com/a", DIFFERENT),
    ("https://example.com/a?", "https://example.com/a?&&", SAME),
    ("https://example.com/a?output=pdf", "https://example.com/a", DIFFERENT),
    # AMP query markers.
    ("https://example.com/a?amp", "https://example.com/a?amp=true", SAME),
    ("https://example.com/a?output=amp", "https://example.com/a?_amp=true", SAME),
    (
        "https://example.com/a?amp_js_v=0.1&usqp=mq331AQFKAGwASCAAgM%3D&amp_gsa=1",
        "https://example.com/a",
        SAME,
    ),
    # AMP paths.
    ("https://example.com/news/amp/story-123", "https://example.com/news/story-123", SAME),
    ("https://example.com/story-123/amp/", "https://example.com/story-123", SAME),
    ("https://e.com/a/b.html", "https://e.com/a/b.amp.html", SAME),
    ("https://e.com/a/b.html", "https://e.com/a/b", DIFFERENT),
    ("https://example.com/amp-stories/story-123", "https://example.com/stories/story-123", DIFFERENT),
    ("https://example.com/campaign", "https://example.com/caign", DIFFERENT),
    ("https://example.com/news/story-123", "https://example.com/news/story-124", DIFFERENT),
    # AMP caches and viewers, each unwrapped to the page it carries.
    ("https://example-com.cdn.ampproject.org/c/example.com/a", "http://example.com/a", SAME),
    (
        "https://example-com.cdn.ampproject.org/v/s/example.com/amp/a?amp_js_v=0.1&usqp=mq331AQ",
        "https://example.com/a",
        SAME,
    ),
    ("https://example-com.cdn.ampproject.org/v/example.com/a", "https://example.com/a", SAME),
    ("https://example-com.cdn.ampproject.org/i/s/example.com/logo.png", "https://example.com/logo.png", SAME),
    ("https://example-com.cdn.ampproject.org/wp/s/example.com/a.amp", "https://example.com/a", SAME),
    ("https://cdn.ampproject.org/c/s/www.example.com/a", "https://example.com/a", SAME),
    ("https://www.google.com/amp/s/amp.example.com/a.amp.html", "https://example.com/a.html", SAME),
    ("https://example.com/c/s/other.org/a", "https://other.org/a", DIFFERENT),
    # Percent-escapes: spelling normalised, meaning kept.
    ("https://example.com/%7euser/%41", "https://example.com/~user/A", SAME),
    ("https://example.com/a%2fb?q=%c3%a9", "https://example.com/a%2Fb?q=%C3%A9", SAME),
    ("https://example.com/a%2Fb", "https://example.com/a/b", DIFFERENT),
]

NOT_HTTP_URLS = [
    "javascript:alert(1)",
    "ftp://x/y",
    "mailto:a@b",
    "",
    "   ",
    "https://",
    "//example.com/a",
    None,
    42,
    "http:///path",
    b"https://example.com/a",
    "https:/example.com/a",
    "https://exa mple.com/a",
    "https://example.com:8o/a",
    "https://example.com:" + "9" * 5000 + "/a",
    "https://example..com/a",
    "example.com/a",
]


@pytest.mark.parametrize(("first", "second", "same"), PAIRS)
def test_same_article_or_not(first, second, same):
    first_key, second_key = canonical_url(first), canonical_url(second)
    assert first_key is not None and second_key is not None
    assert (first_key == second_key) is same, (first_key, second_key)


def test_the_table_is_big_enough_and_covers_both_answers():
    assert len(PAIRS) >= 50
    assert {same for _, _, same in PAIRS} == {SAME, DIFFERENT}


@pytest.mark.parametrize("url", sorted({url for first, second, _ in PAIRS for url in (first, second)}))
def test_a_key_is_its_own_key(url):
    key = canonical_url(url)
    assert canonical_url(key) == key


@pytest.mark.parametrize("value", NOT_HTTP_URLS, ids=repr)
def test_not_an_http_url_with_a_host(value):
    assert canonical_url(value) is None


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("HTTP://WWW.Example.COM:80/a/?utm_source=x&b=2&a=1#frag", "https://example.com/a?a=1&b=2"),
        (
            "https://www-foxnews-com.cdn.ampproject.org/c/s/www.foxnews.com/tech/x.amp",
            "https://foxnews.com/tech/x",
        ),
        ("https://e.com/a/b.amp.html", "https://e.com/a/b.html"),
        ("http://example.com", "https://example.com"),
        ("https://m.co/", "https://m.co"),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("https://[::1]:8080/x/", "https://[::1]:8080/x"),
        ("https://example.com/%7e%41%2f?q=%c3%a9", "https://example.com/~A%2F?q=%C3%A9"),
        ("https://example.com/a?b&a=&a=2&a&utm_term=x", "https://example.com/a?a&a=&a=2&b"),
        (
            "https://medium.com/@appstud/face-recognition-4bdc38d50dd1",
            "https://medium.com/@appstud/face-recognition-4bdc38d50dd1",
        ),
    ],
)
def test_exact_keys(url, key):
    assert canonical_url(url) == key


def test_every_amp_form_in_the_real_seed_is_its_web_page():
    seed = parse(REAL_SEED.read_text(encoding="utf-8"))
    entries = [seed, *seed.related]
    amp_entries = [entry for entry in entries if entry.amp_web_url or entry.cdn_amp_web_url]
    assert amp_entries
    for entry in amp_entries:
        key = canonical_url(entry.web_url)
        assert canonical_url(entry.amp_web_url) == key == canonical_url(entry.cdn_amp_web_url)
    web_keys = [canonical_url(entry.web_url) for entry in entries]
    assert None not in web_keys and len(set(web_keys)) == len(web_keys)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(),
        st.text().map(lambda tail: "https://" + tail),
        st.text().map(lambda tail: "https://e.com/" + tail),
    )
)
def test_any_text_gives_none_or_an_https_key(text):
    key = canonical_url(text)
    assert key is None or key.startswith("https://")
