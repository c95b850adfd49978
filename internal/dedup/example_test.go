package dedup_test

import (
	"fmt"
	"log"

	"github.com/whet-dev/whet/internal/dedup"
)

func ExampleIndex() {
	ix, err := dedup.NewIndex(dedup.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	policy := "Refunds are issued within thirty days of purchase when the customer returns the item in its original packaging and includes the receipt"
	ix.Add("v1", policy+".")
	ix.Add("v1-copy", "  "+policy+".\n")
	ix.Add("v2", policy+" or an order number.")
	ix.Add("other", "Shipping takes three to five working days within the country and up to two weeks abroad depending on customs")
	for _, c := range ix.Clusters().Clusters {
		fmt.Println(c.Keep, c.Drop, c.Exact)
	}
	// Output:
	// v1 [v1-copy v2] false
}
