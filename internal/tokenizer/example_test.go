package tokenizer_test

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/whet-dev/whet/internal/tokenizer"
)

func ExampleTrain() {
	corpus := []string{"low lower lowest", "new newer newest", "low new low new"}
	tk, err := tokenizer.Train(context.Background(), slices.Values(corpus), tokenizer.TrainOptions{
		VocabSize:     270,
		SpecialTokens: []string{"<|endoftext|>"},
		ByteLevel:     true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ids := tk.Encode("lowest newest<|endoftext|>", false)
	var toks []string
	for _, id := range ids {
		toks = append(toks, fmt.Sprintf("%q", tk.TokenBytes(id)))
	}
	fmt.Println(strings.Join(toks, " "))
	fmt.Println(tk.Decode(ids, true))
	// Output:
	// "low" "est" " newest" "<|endoftext|>"
	// lowest newest
}

func ExampleTrain_bytesOnly() {
	// With no text, the vocabulary is the special tokens and the 256 bytes.
	tk, err := tokenizer.Train(context.Background(), slices.Values([]string(nil)), tokenizer.TrainOptions{
		VocabSize: 259, SpecialTokens: []string{"<s>", "</s>", "<pad>"}, ByteLevel: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tk.VocabSize(), tk.Encode("hé", false), tk.Decode(tk.Encode("hé", false), false))
	// Output:
	// 259 [74 130 105] hé
}
