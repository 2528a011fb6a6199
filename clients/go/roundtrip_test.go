// Herald from Go: nothing in the API is TypeScript-only. Stubs generated from
// proto/herald/v1 by protoc-gen-go and protoc-gen-go-grpc, google.golang.org/grpc,
// real services at HERALD_PUBLISHER, HERALD_REGISTRY and HERALD_DISPATCHER.
package client_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	heraldv1 "herald.local/clients/go/gen/herald/v1"
)

const (
	rpcTimeout         = 30 * time.Second
	ackDeadlineSeconds = 10
	// First delivery includes the subscription's consumer joining its group.
	firstDeliveryTimeout = 60 * time.Second
	// The deadline, the default retry backoff (1 s), and slack for a busy machine.
	redeliveryTimeout = (ackDeadlineSeconds + 30) * time.Second
	// After the redelivery, how long nothing more may arrive.
	quietPeriod = 3 * time.Second
)

func connect(t *testing.T, variable string) *grpc.ClientConn {
	t.Helper()
	address := os.Getenv(variable)
	if address == "" {
		t.Fatalf("set HERALD_PUBLISHER, HERALD_REGISTRY and HERALD_DISPATCHER to the host:port of running Herald services")
	}
	conn, err := grpc.NewClient(address, dialOptions(t)...)
	if err != nil {
		t.Fatalf("%s=%s: %v", variable, address, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// bearerToken sends "authorization: Bearer <token>" with every call, over TLS only.
type bearerToken string

func (token bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(token)}, nil
}

func (bearerToken) RequireTransportSecurity() bool { return true }

// dialOptions: plaintext, or TLS when HERALD_TLS_CA (the services' CA), HERALD_TLS_CLIENT_CERT and
// HERALD_TLS_CLIENT_KEY (for services that require a client certificate) or HERALD_TLS=true (the
// system's CAs) say so, with HERALD_TOKEN as bearer token.
func dialOptions(t *testing.T) []grpc.DialOption {
	t.Helper()
	caFile, certFile, keyFile := os.Getenv("HERALD_TLS_CA"), os.Getenv("HERALD_TLS_CLIENT_CERT"), os.Getenv("HERALD_TLS_CLIENT_KEY")
	token := os.Getenv("HERALD_TOKEN")
	if caFile == "" && certFile == "" && !strings.EqualFold(os.Getenv("HERALD_TLS"), "true") {
		if token != "" {
			t.Fatalf("HERALD_TOKEN needs TLS (HERALD_TLS_CA or HERALD_TLS=true): a token is never sent in plaintext")
		}
		return []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	}
	config := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			t.Fatalf("HERALD_TLS_CA: %v", err)
		}
		config.RootCAs = x509.NewCertPool()
		if !config.RootCAs.AppendCertsFromPEM(pem) {
			t.Fatalf("HERALD_TLS_CA=%s holds no PEM certificate", caFile)
		}
	}
	if certFile != "" || keyFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatalf("HERALD_TLS_CLIENT_CERT, HERALD_TLS_CLIENT_KEY: %v", err)
		}
		config.Certificates = []tls.Certificate{pair}
	}
	options := []grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(config))}
	if token != "" {
		options = append(options, grpc.WithPerRPCCredentials(bearerToken(token)))
	}
	return options
}

func uniqueName(prefix string) string {
	random := make([]byte, 3)
	rand.Read(random)
	return fmt.Sprintf("%s-%x-%s", prefix, time.Now().UnixMilli(), hex.EncodeToString(random))
}

func call(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	t.Cleanup(cancel)
	return ctx
}

// pullStream runs one StreamingPull: a goroutine moves received messages into a
// channel, so that every wait below is a select with a timeout.
type pullStream struct {
	stream   grpc.BidiStreamingClient[heraldv1.StreamingPullRequest, heraldv1.StreamingPullResponse]
	received chan *heraldv1.ReceivedMessage
	err      chan error
}

func startPull(t *testing.T, dispatcher heraldv1.DispatcherServiceClient, subscription string) *pullStream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel) // ends the stream: the server keeps sending until the client cancels
	stream, err := dispatcher.StreamingPull(ctx)
	if err != nil {
		t.Fatalf("StreamingPull: %v", err)
	}
	first := &heraldv1.StreamingPullRequest{Subscription: subscription, MaxOutstandingMessages: 100, ClientId: "herald-go-client-test"}
	if err := stream.Send(first); err != nil {
		t.Fatalf("first request: %v", err)
	}
	pull := &pullStream{stream: stream, received: make(chan *heraldv1.ReceivedMessage, 1000), err: make(chan error, 1)}
	go func() {
		for {
			response, err := stream.Recv()
			if err != nil {
				pull.err <- err
				return
			}
			for _, message := range response.GetReceivedMessages() {
				pull.received <- message
			}
		}
	}()
	return pull
}

// next returns the next message, or nil when none came within timeout.
func (p *pullStream) next(t *testing.T, timeout time.Duration) *heraldv1.ReceivedMessage {
	t.Helper()
	select {
	case message := <-p.received:
		return message
	case err := <-p.err:
		t.Fatalf("StreamingPull ended: %v", err)
	case <-time.After(timeout):
	}
	return nil
}

func (p *pullStream) ack(t *testing.T, ackIDs ...string) {
	t.Helper()
	if err := p.stream.Send(&heraldv1.StreamingPullRequest{AckIds: ackIDs}); err != nil {
		t.Fatalf("ack: %v", err)
	}
}

func TestPublishPullAckAndRedelivery(t *testing.T) {
	registry := heraldv1.NewSubscriberRegistryServiceClient(connect(t, "HERALD_REGISTRY"))
	publisher := heraldv1.NewPublisherServiceClient(connect(t, "HERALD_PUBLISHER"))
	dispatcher := heraldv1.NewDispatcherServiceClient(connect(t, "HERALD_DISPATCHER"))

	topic, subscription := uniqueName("go-topic"), uniqueName("go-sub")
	if _, err := registry.CreateTopic(call(t), &heraldv1.CreateTopicRequest{Topic: &heraldv1.Topic{Name: topic, Partitions: 3}}); err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	created, err := registry.CreateSubscription(call(t), &heraldv1.CreateSubscriptionRequest{
		Subscription: &heraldv1.Subscription{Name: subscription, Topic: topic, AckDeadlineSeconds: ackDeadlineSeconds},
	})
	if err != nil {
		t.Fatalf("CreateSubscription: %v", err)
	}
	if got := created.GetSubscription().GetAckDeadlineSeconds(); got != ackDeadlineSeconds {
		t.Fatalf("ack_deadline_seconds = %d", got)
	}

	var sent []*heraldv1.Message
	for i := range 5 {
		sent = append(sent, &heraldv1.Message{
			Data:       fmt.Appendf(nil, "order %d", i),
			Attributes: map[string]string{"index": fmt.Sprint(i), "region": "eu", "lang": "go"},
		})
	}
	published, err := publisher.Publish(call(t), &heraldv1.PublishRequest{Topic: topic, Messages: sent})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	ids := published.GetMessageIds()
	if len(ids) != len(sent) {
		t.Fatalf("%d message ids for %d messages", len(ids), len(sent))
	}

	pull := startPull(t, dispatcher, subscription)
	byID := map[string]*heraldv1.ReceivedMessage{}
	deadline := time.Now().Add(firstDeliveryTimeout)
	for len(byID) < len(sent) {
		message := pull.next(t, time.Until(deadline))
		if message == nil {
			t.Fatalf("received %d of %d messages", len(byID), len(sent))
		}
		if _, seen := byID[message.GetMessageId()]; seen {
			t.Fatalf("message %s delivered twice before any deadline", message.GetMessageId())
		}
		byID[message.GetMessageId()] = message
	}
	firstDelivered := time.Now()
	for i, id := range ids {
		message := byID[id]
		if message == nil {
			t.Fatalf("published message %s not received", id)
		}
		if string(message.GetData()) != string(sent[i].GetData()) || !maps.Equal(message.GetAttributes(), sent[i].GetAttributes()) {
			t.Fatalf("message %s arrived as %v", id, message)
		}
		if message.GetDeliveryAttempt() != 1 || message.GetAckId() == "" || message.GetPublishTime() == nil {
			t.Fatalf("first delivery of %s: %v", id, message)
		}
	}

	// Acknowledge all but one; the one left must come back after its ack deadline.
	kept := byID[ids[2]]
	var ackIDs []string
	for _, id := range ids {
		if id != kept.GetMessageId() {
			ackIDs = append(ackIDs, byID[id].GetAckId())
		}
	}
	pull.ack(t, ackIDs...)

	redelivered := pull.next(t, time.Until(firstDelivered.Add(redeliveryTimeout)))
	if redelivered == nil {
		t.Fatalf("no redelivery within %s", redeliveryTimeout)
	}
	waited := time.Since(firstDelivered)
	if redelivered.GetMessageId() != kept.GetMessageId() {
		t.Fatalf("delivered again: %s, expected only %s", redelivered.GetMessageId(), kept.GetMessageId())
	}
	if redelivered.GetDeliveryAttempt() != 2 {
		t.Fatalf("delivery_attempt = %d, want 2", redelivered.GetDeliveryAttempt())
	}
	if waited < (ackDeadlineSeconds-1)*time.Second {
		t.Fatalf("redelivered after %s, before the ack deadline", waited)
	}
	pull.ack(t, redelivered.GetAckId())
	if late := pull.next(t, quietPeriod); late != nil {
		t.Fatalf("delivered again after every ack: %s", late.GetMessageId())
	}
}

func TestInvalidTopicNameIsInvalidArgumentNamingTheField(t *testing.T) {
	registry := heraldv1.NewSubscriberRegistryServiceClient(connect(t, "HERALD_REGISTRY"))
	_, err := registry.CreateTopic(call(t), &heraldv1.CreateTopicRequest{Topic: &heraldv1.Topic{Name: "9-starts-with-a-digit"}})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "topic.name") {
		t.Fatalf("CreateTopic with an invalid name: %v", err)
	}
}
