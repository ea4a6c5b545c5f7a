"""The reference turned to its opposite and named after the answer, for the `match` verifier: "… so this is
hypokalaemia" after "Final answer: hyperkalaemia", "… so the weakness is distal" for "Proximal weakness". An opposite
named in a sentence that dismisses it ("hypokalaemia would give U waves instead") is a reason, not a second answer;
both words in one name ("acute exacerbation of chronic …") agree with either. Which words are opposites:
`medo1.verify.tokens` (`flipped`)."""

from __future__ import annotations

import re

from medo1.verify import cues
from medo1.verify.sentences import committed_sentences, segments, sentences
from medo1.verify.tokens import Token, flipped, tokens

__all__ = ["opposite_stated"]

# what dismisses an opposite named in a sentence ("Hyperkalaemia is not the cause", "… would give low calcium")
_DISMISSED = re.compile(cues.CONTRAST.pattern + r"|\b(?:would|could|might|needs?|requires?|spares?|unusual|instead|"
                        r"versus|vs)\b|其他|而|若|如果", re.IGNORECASE)


def opposite_stated(final: str, ref: tuple[Token, ...]) -> bool:
    """The reference turned to its opposite ("hypokalaemia" for "hyperkalaemia", "distal" for "proximal"), its words
    in one segment, named from the answer on in a sentence that dismisses nothing: of the 294 correct tuned responses
    whose reference has an opposite, none names it so, against 110 of 380 wrong ones."""
    words_of_ref = tuple(t.word for t in ref)
    turned = [(t, set(words_of_ref) - set(t)) for t in flipped(words_of_ref)]  # the opposite, and the word it turned
    if not turned:
        return False
    found, committed = sentences(final), committed_sentences(final)
    for sentence in found[found.index(committed[0]) if committed else 0:]:
        if _DISMISSED.search(cues.REVISION.sub("", cues.REVISION.sub("", sentence.text, 1), 1)):
            continue  # (a revision's "No, on reflection: …" dismisses the answer before it, not the opposite)
        main = [segment.text for segment in segments(sentence.text) if segment.role == "main"]
        for words in [{t.word for t in tokens(text)} for text in main] + [{t.word for t in tokens(" ".join(main))}]:
            if any(words.issuperset(t) and not words & was for t, was in turned):
                return True  # "… so the weakness is distal" for "Proximal weakness" (not "acute on chronic"); its
                # words across the sentence: "Peroneal nerve — the superficial branch" for "Deep peroneal nerve"
    return False
