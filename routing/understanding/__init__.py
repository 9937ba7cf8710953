"""Understanding a citizen's text: normalisation, places, entities, the classifier, risk signals,
the danger check and the conversation repairs."""
