//! The queue and blob ports: the local adapters and the AWS ones (on moto_server) keep
//! the same contract.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use clearance::blobs::{local::DirBlobs, s3::S3Blobs, BlobError, Blobs};
use clearance::queue::{
    memory::MemoryQueue, sqs::SqsQueue, Queue, QueueConsumer, QueueError, QueueName,
};

async fn a_sent_message_is_received_once_and_gone_after_ack<Q: Queue + QueueConsumer>(q: Arc<Q>) {
    // given a message on the fulfillment queue
    q.send(QueueName::Fulfillment, r#"{"order":"o-1"}"#, None)
        .await
        .unwrap();
    // when it is received
    let got = q.receive(QueueName::Fulfillment, 10).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, r#"{"order":"o-1"}"#);
    // then it is hidden while in flight, and gone once acked
    assert!(q
        .receive(QueueName::Fulfillment, 10)
        .await
        .unwrap()
        .is_empty());
    q.ack(QueueName::Fulfillment, &got[0].receipt)
        .await
        .unwrap();
    assert!(q
        .receive(QueueName::Fulfillment, 10)
        .await
        .unwrap()
        .is_empty());
    // and a delay beyond what SQS allows is refused before sending
    let too_long = q
        .send(QueueName::Fulfillment, "x", Some(Duration::from_secs(901)))
        .await;
    assert!(matches!(too_long, Err(QueueError::DelayTooLong(_))));
}

async fn a_blob_reads_back_and_keys_cannot_escape(b: Arc<dyn Blobs>) {
    b.put(
        "reports/demo/south-china/summer.csv",
        b"sku,units\nSD-1,3\n".to_vec(),
        "text/csv",
    )
    .await
    .unwrap();
    let got = b.get("reports/demo/south-china/summer.csv").await.unwrap();
    assert_eq!(got.as_deref(), Some(&b"sku,units\nSD-1,3\n"[..]));
    assert_eq!(b.get("reports/none.csv").await.unwrap(), None);
    assert!(b
        .exists("reports/demo/south-china/summer.csv")
        .await
        .unwrap());
    assert!(!b.exists("reports/none.csv").await.unwrap());
    assert!(matches!(
        b.put("../etc/passwd", vec![], "text/plain").await,
        Err(BlobError::InvalidKey(_))
    ));
    let url = b
        .presign_get(
            "reports/demo/south-china/summer.csv",
            Duration::from_secs(300),
        )
        .await
        .unwrap();
    assert!(url.contains("summer.csv"), "{url}");
}

#[tokio::test]
async fn memory_queue_keeps_the_queue_contract() {
    a_sent_message_is_received_once_and_gone_after_ack(Arc::new(MemoryQueue::new())).await;
}

#[tokio::test]
async fn sqs_queue_on_moto_keeps_the_queue_contract() {
    let sdk = clearance_tests::moto_sdk().await;
    let client = aws_sdk_sqs::Client::new(&sdk);
    let name = clearance_tests::unique("fulfillment");
    let created = client
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create_queue on moto: {e:?}"));
    let url = created.queue_url.unwrap_or_default();
    let q = SqsQueue::new(client, HashMap::from([(QueueName::Fulfillment, url)]));
    a_sent_message_is_received_once_and_gone_after_ack(Arc::new(q)).await;
}

#[tokio::test]
async fn directory_blobs_keep_the_blob_contract() {
    let dir = std::env::temp_dir().join(clearance_tests::unique("blobs"));
    a_blob_reads_back_and_keys_cannot_escape(Arc::new(DirBlobs::new(dir))).await;
}

#[tokio::test]
async fn s3_blobs_on_moto_keep_the_blob_contract() {
    let sdk = clearance_tests::moto_sdk().await;
    let conf = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(true)
        .build();
    let client = aws_sdk_s3::Client::from_conf(conf);
    let bucket = clearance_tests::unique("reports").to_lowercase();
    client
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create_bucket on moto: {e:?}"));
    a_blob_reads_back_and_keys_cannot_escape(Arc::new(S3Blobs::new(client, bucket))).await;
}

#[tokio::test]
async fn a_message_that_always_fails_reaches_the_dead_letter_queue_after_five_receives() {
    use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
    use aws_sdk_sqs::types::QueueAttributeName;
    // given a queue wired as the template wires them: dead letters after five receives
    let sdk = clearance_tests::moto_sdk().await;
    let client = aws_sdk_sqs::Client::new(&sdk);
    let dlq = client
        .create_queue()
        .queue_name(clearance_tests::unique("refunds-dlq"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("create_queue on moto: {e:?}"))
        .queue_url
        .unwrap_or_default();
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .unwrap();
    let main = client
        .create_queue()
        .queue_name(clearance_tests::unique("refunds"))
        .attributes(
            QueueAttributeName::RedrivePolicy,
            format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"5"}}"#),
        )
        .attributes(QueueAttributeName::VisibilityTimeout, "0")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap_or_default();
    let q = SqsQueue::new(
        client.clone(),
        HashMap::from([(QueueName::Refunds, main.clone())]),
    );
    q.send(QueueName::Refunds, r#"{"poison":true}"#, None)
        .await
        .unwrap();
    // when a consumer that always fails (a retryable error) takes it, as Lambda's poller
    // does: failures reported back are left on the queue, the rest deleted
    let mut runs = 0;
    for _ in 0..10 {
        let got = q.receive(QueueName::Refunds, 10).await.unwrap();
        if got.is_empty() {
            break;
        }
        let mut event = SqsEvent::default();
        event.records = got
            .iter()
            .map(|m| {
                let mut r = SqsMessage::default();
                r.message_id = Some(m.id.clone());
                r.body = Some(m.body.clone());
                r
            })
            .collect();
        let response = clearance::workers::batch(event, |_| async {
            Err(clearance::workers::WorkerError {
                message: "the provider is down".into(),
                retryable: true,
            })
        })
        .await;
        runs += got.len();
        for m in &got {
            if !response
                .batch_item_failures
                .iter()
                .any(|f| f.item_identifier == m.id)
            {
                q.ack(QueueName::Refunds, &m.receipt).await.unwrap();
            }
        }
    }
    // then it was tried five times and now waits in the dead-letter queue
    assert_eq!(runs, 5);
    let dead = client
        .receive_message()
        .queue_url(&dlq)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body.as_deref(), Some(r#"{"poison":true}"#));
}
