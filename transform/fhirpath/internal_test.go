package fhirpath

import "testing"

func TestChoiceTypeListsAgree(t *testing.T) {
	for _, s := range choiceTypes {
		if !isChoiceType([]byte(s)) {
			t.Errorf("%s in choiceTypes but not isChoiceType", s)
		}
	}
	if isChoiceType([]byte("LinkId")) || isChoiceType([]byte("Sequence")) {
		t.Error("non-type suffix accepted")
	}
}
